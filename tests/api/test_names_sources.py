"""Native API: build names unique among a project's live builds (409), and the source a
submit stores (what Heat's facade shows back). Real ZooKeeper, in-process WSGI."""

from __future__ import annotations

import json
import random
import string

from kazoo.client import KazooClient

from cool.store.builds import BuildStore
from cool.store.layout import Layout
from cool.store.records import MASK
from tests.api.helpers import VALUE_TEMPLATE, ZK_ROOT, Caller, error_codes, queued

SECRET_TEMPLATE = """\
heat_template_version: 2018-08-31
parameters:
  word: {type: string}
  password: {type: string, hidden: true}
  token: {type: string, hidden: true, default: unset}
resources:
  v: {type: OS::Heat::Value, properties: {value: {get_param: word}}}
  app: {type: app.yaml}
"""
APP = "heat_template_version: 2018-08-31\nresources: {}\n"
ENVIRONMENT = """\
parameters: {password: s3cret, word: from-env}
parameter_defaults: {token: t0ken}
resource_registry: {"OS::Cool::Thing": thing.yaml}
"""


def _store(client: KazooClient) -> BuildStore:
    return BuildStore(client, Layout(ZK_ROOT))


def test_a_second_live_build_with_a_name_is_a_409(
    alice: Caller, bob: Caller, kazoo_client: KazooClient
) -> None:
    first = alice.submit(VALUE_TEMPLATE, name="web")
    assert first.status_code == 202, first.text
    again = alice.submit(VALUE_TEMPLATE, name="web")
    assert again.status_code == 409, again.text
    assert error_codes(again) == ["cool.build.name_exists"]
    assert "'web'" in again.json["errors"][0]["detail"]
    assert bob.submit(VALUE_TEMPLATE, name="web").status_code == 202  # another project
    odd = alice.submit(VALUE_TEMPLATE, name="a/b ../c")  # any printable name works
    assert odd.status_code == 202, odd.text
    store = _store(kazoo_client)
    assert store.find_by_name("p-one", "web") == first.json["build"]["id"]
    assert store.find_by_name("p-one", "a/b ../c") == odd.json["build"]["id"]


def test_an_idempotent_retry_with_a_name_replays_its_build(alice: Caller) -> None:
    headers = {"Idempotency-Key": "named-1"}
    body = {"template": VALUE_TEMPLATE, "name": "web"}
    first = alice.post("/v1/builds", json=body, headers=headers)
    again = alice.post("/v1/builds", json=body, headers=headers)
    assert first.status_code == again.status_code == 202, again.text
    assert again.json["build"]["id"] == first.json["build"]["id"]
    assert again.headers["idempotent-replayed"] == "true"


def test_the_source_is_stored_with_hidden_values_masked(
    alice: Caller, kazoo_client: KazooClient
) -> None:
    result = alice.post(
        "/v1/builds",
        json={
            "template": SECRET_TEMPLATE,
            "parameters": {"word": "given"},
            "environment": ENVIRONMENT,
            "files": {"app.yaml": APP},
        },
    )
    assert result.status_code == 202, result.text
    source = _store(kazoo_client).source(result.json["build"]["id"])
    assert source.template["parameters"]["password"] == {"type": "string", "hidden": True}
    assert source.template["heat_template_version"] == "2018-08-31"  # a string, not a date
    assert source.files == {"app.yaml": APP}
    assert source.environment["parameters"] == {"password": MASK, "word": "given"}
    assert source.environment["parameter_defaults"] == {"token": MASK}
    assert source.environment["resource_registry"] == {"OS::Cool::Thing": "thing.yaml"}
    data, _ = kazoo_client.get(Layout(ZK_ROOT).source(result.json["build"]["id"]))
    assert b"s3cret" not in data
    assert b"t0ken" not in data


def test_a_template_sent_as_an_object_is_stored_as_that_object(
    alice: Caller, kazoo_client: KazooClient
) -> None:
    result = alice.submit(VALUE_TEMPLATE)
    assert result.status_code == 202, result.text
    source = _store(kazoo_client).source(result.json["build"]["id"])
    assert source.template == VALUE_TEMPLATE
    assert source.environment["parameters"] == {}


def test_a_build_too_large_to_store_is_a_413_and_nothing_is_stored(
    alice: Caller, kazoo_client: KazooClient
) -> None:
    """Each limit of the request is kept (template, files), but the plan and the source
    together would not fit one ZooKeeper write."""
    rng = random.Random(7)
    noise = string.ascii_letters + string.digits + string.punctuation

    def text(size: int) -> str:
        return "".join(rng.choices(noise, k=size))

    values = {f"v{i}": text(150_000) for i in range(2)}
    template = "heat_template_version: 2018-08-31\nresources:\n" + "".join(
        f"  {name}: {{type: OS::Heat::Value, properties: {{value: {json.dumps(value)}}}}}\n"
        for name, value in values.items()
    )
    files = {"a.txt": text(350_000), "b.txt": text(350_000)}
    result = alice.post("/v1/builds", json={"template": template, "files": files, "name": "big"})
    assert result.status_code == 413, result.text
    assert error_codes(result) == ["cool.build.too_large"]
    assert queued(kazoo_client) == []
    assert _store(kazoo_client).find_by_name("p-one", "big") is None
