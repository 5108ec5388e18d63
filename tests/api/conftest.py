"""Fixtures for the API: the app in-process over the test's ZooKeeper chroot."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from falcon import testing
from kazoo.client import KazooClient
from prometheus_client import CollectorRegistry

from cool.api import app
from cool.resources.registry import ResourceTypeRegistry
from tests.api.helpers import Caller, make_conf
from tests.zk import start_client, stop_client


@pytest.fixture
def api_client(zk_hosts: str) -> Iterator[KazooClient]:
    client = start_client(zk_hosts)
    try:
        yield client
    finally:
        stop_client(client)


@pytest.fixture
def wsgi(
    zk_hosts: str, tmp_path: Path, api_client: KazooClient, registry: ResourceTypeRegistry
) -> testing.TestClient:
    conf = make_conf(zk_hosts, tmp_path)
    return testing.TestClient(
        app.build(conf, api_client, registry=registry, metrics_registry=CollectorRegistry())
    )


@pytest.fixture
def alice(wsgi: testing.TestClient) -> Caller:
    """A member of p-one."""
    return Caller(wsgi, "alice")


@pytest.fixture
def rita(wsgi: testing.TestClient) -> Caller:
    """A reader of p-one."""
    return Caller(wsgi, "rita")


@pytest.fixture
def bob(wsgi: testing.TestClient) -> Caller:
    """A member of p-two."""
    return Caller(wsgi, "bob")


@pytest.fixture
def ada(wsgi: testing.TestClient) -> Caller:
    """The cloud admin."""
    return Caller(wsgi, "ada")


@pytest.fixture
def anonymous(wsgi: testing.TestClient) -> Caller:
    return Caller(wsgi, None)
