"""A store on a fresh chroot, and a plan to submit to it."""

from __future__ import annotations

import pytest
from kazoo.client import KazooClient

from cool.model import Plan
from cool.resources.registry import ResourceTypeRegistry
from cool.store.builds import BuildStore
from cool.store.layout import Layout
from cool.template.compile import compile_template

CHAIN = """
heat_template_version: wallaby
resources:
  a: {type: OS::Heat::RandomString}
  b:
    type: OS::Heat::Value
    properties: {value: {get_attr: [a, value]}}
outputs:
  out: {value: {get_attr: [b, value]}}
"""


@pytest.fixture
def store(kazoo_client: KazooClient) -> BuildStore:
    store = BuildStore(kazoo_client, Layout("/cool"))
    store.ensure_layout()
    return store


@pytest.fixture
def plan(registry: ResourceTypeRegistry) -> Plan:
    return compile_template(CHAIN, registry, {})
