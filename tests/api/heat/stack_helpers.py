"""Stacks made and finished for the stack tests (no worker runs in-process)."""

from __future__ import annotations

import re
from typing import Any

from kazoo.client import KazooClient

from cool.model import BuildStatus
from cool.store import codec
from cool.store.builds import BuildStore
from cool.store.layout import Layout
from cool.store.records import BuildState
from tests.api.helpers import ZK_ROOT, Caller

HEAT_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
TEMPLATE: dict[str, Any] = {
    "heat_template_version": "2018-08-31",
    "description": "a value and its parameters",
    "parameters": {
        "word": {"type": "string", "default": "hi"},
        "n": {"type": "number", "default": 3},
        "flag": {"type": "boolean", "default": True},
        "items": {"type": "comma_delimited_list", "default": "a,b"},
        "blob": {"type": "json", "default": {"k": [1]}},
        "secret": {"type": "string", "hidden": True, "default": "s3cret"},
    },
    "resources": {"v": {"type": "OS::Heat::Value", "properties": {"value": {"get_param": "word"}}}},
    "outputs": {
        "said": {"value": {"get_attr": ["v", "value"]}, "description": "what v said"},
        "broken": {"value": {"get_attr": ["v", "value"]}},
    },
}
STACK_KEYS = {
    "id",
    "links",
    "stack_name",
    "description",
    "stack_status",
    "stack_status_reason",
    "creation_time",
    "updated_time",
    "deletion_time",
    "stack_owner",
    "parent",
    "stack_user_project_id",
    "tags",
}


def create(caller: Caller, name: str = "web", **fields: Any) -> str:
    body = {"stack_name": name, "template": TEMPLATE, **fields}
    result = caller.post("/v1/p-one/stacks", json=body)
    assert result.status_code == 201, result.text
    return str(result.json["stack"]["id"])


def finish(
    client: KazooClient,
    build_id: str,
    status: BuildStatus = BuildStatus.CREATE_COMPLETE,
    *,
    reason: str = "build complete",
    note: dict[str, Any] | None = None,
) -> None:
    """Leave a build as a worker does (no worker runs in these tests)."""
    layout = Layout(ZK_ROOT)
    state, version = BuildStore(client, layout).state(build_id)
    done = BuildState(
        status,
        reason=reason,
        note=note,
        done=state.total,
        total=state.total,
        outputs={
            "said": {"value": "hi", "description": "what v said"},
            "broken": {"description": "", "error": "v has no attribute 'value'"},
        },
        updated_at=state.updated_at + 1,
    )
    transaction = client.transaction()
    transaction.set_data(layout.state(build_id), codec.dumps(done.to_dict()), version=version)
    transaction.delete(layout.pending_build(build_id))
    transaction.commit()
