"""Heat's stack list: tag filters, the page without a limit, the next link, and what a
page costs in ZooKeeper reads (counted on the app's real client)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from falcon import testing
from kazoo.client import KazooClient
from prometheus_client import CollectorRegistry

from cool.api import app
from cool.resources.registry import ResourceTypeRegistry
from cool.store import codec
from cool.store.layout import Layout
from cool.store.reads import BuildReads
from tests.api.heat.stack_helpers import create
from tests.api.helpers import ZK_ROOT, Caller, make_conf


def _names(result: testing.Result) -> list[str]:
    assert result.status_code == 200, result.text
    return [s["stack_name"] for s in result.json["stacks"]]


def test_tag_filters_are_heats(alice: Caller) -> None:
    create(alice, "both", tags="t1,t2")
    create(alice, "one", tags="t1")
    create(alice, "none")

    def listed(**params: str) -> list[str]:
        return _names(alice.get("/v1/p-one/stacks", params=params))

    assert listed(tags="t1,t2") == ["both"]  # all of them
    assert listed(tags="t1") == ["one", "both"]
    assert listed(tags_any="t2,x") == ["both"]  # any of them
    assert listed(not_tags="t1,t2") == ["none", "one"]  # not all of them
    assert listed(not_tags_any="t2,x") == ["none", "one"]  # none of them
    assert listed(not_tags_any="t1") == ["none"]
    assert listed(tags="t1", not_tags="t2") == ["one"]
    shown = alice.get("/v1/p-one/stacks", params={"tags": "t1"}).json["stacks"]
    assert shown[1]["tags"] == ["t1", "t2"]


@pytest.fixture
def small_pages(
    zk_hosts: str, tmp_path: Path, api_client: KazooClient, registry: ResourceTypeRegistry
) -> Caller:
    """alice, on an API whose pages are 2 stacks by default and 5 at most."""
    conf = make_conf(zk_hosts, tmp_path, api={"default_limit": 2, "max_limit": 5})
    built = app.build(conf, api_client, registry=registry, metrics_registry=CollectorRegistry())
    return Caller(testing.TestClient(built), "alice")


def test_no_limit_is_the_largest_page_as_heat_has_no_default(small_pages: Caller) -> None:
    ids = [create(small_pages, f"s{i}") for i in range(7)]
    every = small_pages.get("/v1/p-one/stacks")
    assert [s["id"] for s in every.json["stacks"]] == ids[::-1][:5]


def test_the_next_link_keeps_every_value_of_a_repeated_parameter(alice: Caller) -> None:
    for name in ("a", "b", "c"):
        create(alice, name)
    page = alice.get("/v1/p-one/stacks?name=a&name=b&name=c&limit=1")
    assert _names(page) == ["c"]
    (link,) = page.json["links"]
    query = parse_qs(urlsplit(link["href"]).query)
    assert query["name"] == ["a", "b", "c"]
    following = alice.get(urlsplit(link["href"]).path, query_string=urlsplit(link["href"]).query)
    assert _names(following) == ["b"]


@pytest.fixture
def reads(api_client: KazooClient, monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """The app's reads of states (on its ZooKeeper client) and of plans (on the store:
    the plans of builds it stored are cached, so a read there is counted too)."""
    counts: Counter[str] = Counter()
    for method in ("get", "get_async"):
        original = getattr(api_client, method)

        def counted(path: str, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            counts["state"] += path.endswith("/state")
            return _original(path, *args, **kwargs)

        monkeypatch.setattr(api_client, method, counted)
    plans = BuildReads.meta_and_plan

    def plan(self: BuildReads, build_id: str) -> Any:
        counts["plan"] += 1
        return plans(self, build_id)

    monkeypatch.setattr(BuildReads, "meta_and_plan", plan)
    return counts


def test_a_page_reads_no_plan_and_stops_early_in_creation_order(
    alice: Caller, api_client: KazooClient, reads: Counter[str]
) -> None:
    ids = [create(alice, f"s{i}", tags="t") for i in range(12)]
    reads.clear()
    page = alice.get("/v1/p-one/stacks", params={"limit": "2"})
    assert [s["id"] for s in page.json["stacks"]] == ids[::-1][:2]
    assert page.json["stacks"][0]["tags"] == ["t"]
    assert page.json["stacks"][0]["stack_owner"] == "alice"
    assert reads["plan"] == 0, reads
    assert reads["state"] <= 4, reads
    # A build indexed before tags were: its plan is read, for it alone.
    entry = Layout(ZK_ROOT).project_build("p-one", ids[-1])
    old = {k: v for k, v in codec.loads(api_client.get(entry)[0]).items() if k != "tags"}
    api_client.set(entry, codec.dumps(old))
    reads.clear()
    page = alice.get("/v1/p-one/stacks", params={"limit": "2"})
    assert page.json["stacks"][0]["tags"] == ["t"]
    assert reads["plan"] == 1, reads
