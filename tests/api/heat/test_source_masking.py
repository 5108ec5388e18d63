"""What Heat's template, environment, files and validate show of a request (review of
issue 18): hidden values masked in the environment files too, and the deployment's
own template limits applied by validate as by create."""

from __future__ import annotations

import json
from pathlib import Path

from falcon import testing
from kazoo.client import KazooClient
from prometheus_client import CollectorRegistry

from cool.api import app
from cool.resources.registry import ResourceTypeRegistry
from tests.api.heat.stack_helpers import TEMPLATE, create
from tests.api.helpers import Caller, make_conf

ENV = "file:///home/u/env.yaml"


def test_a_hidden_value_given_in_an_environment_file_is_masked_in_files_too(
    alice: Caller,
) -> None:
    """`openstack stack create -e` sends each environment file in ``files`` as well:
    the value was masked in ``.../environment`` and shown in ``.../files``."""
    env = json.dumps({"parameters": {"secret": "hunter2", "word": "visible"}})
    stack_id = create(alice, "masked", files={ENV: env}, environment_files=[ENV])
    base = f"/v1/p-one/stacks/masked/{stack_id}"
    environment = alice.get(base + "/environment").json
    assert environment["parameters"] == {"secret": "******", "word": "visible"}
    files = alice.get(base + "/files").json
    assert "hunter2" not in json.dumps(files)
    assert json.loads(files[ENV])["parameters"] == {"secret": "******", "word": "visible"}


def test_validate_applies_the_deployments_template_size_as_create_does(
    zk_hosts: str, tmp_path: Path, api_client: KazooClient, registry: ResourceTypeRegistry
) -> None:
    """A 700 KB template under [template] max_template_size = 2 MiB: create took it,
    Heat's validate answered 413 with the default 512 KiB."""
    conf = make_conf(zk_hosts, tmp_path, template={"max_template_size": 2 * 1024 * 1024})
    client = testing.TestClient(
        app.build(conf, api_client, registry=registry, metrics_registry=CollectorRegistry())
    )
    alice = Caller(client, "alice")
    big = dict(TEMPLATE, description="x" * 700_000)
    result = alice.post("/v1/p-one/validate", json={"template": big})
    assert result.status_code == 200, result.text[:500]
    assert result.json["Description"] == "x" * 700_000
