"""Keystone's types on the simulated cloud: what Keystone keeps unique stays unique, a
user's password is never in its attributes, a region's reference is its own id."""

from __future__ import annotations

import json

import pytest

from cool.clouds.base import ProviderError, ResourceExistsError
from cool.clouds.sim.provider import SimProvider
from tests.clouds.helpers import ctx

PROJECT, USER, ROLE = "OS::Keystone::Project", "OS::Keystone::User", "OS::Keystone::Role"
DOMAIN, REGION = "OS::Keystone::Domain", "OS::Keystone::Region"
SERVICE, ENDPOINT = "OS::Keystone::Service", "OS::Keystone::Endpoint"


@pytest.mark.parametrize(
    ("kind", "props", "elsewhere"),
    [
        (PROJECT, {"name": "web"}, {"name": "web", "domain": "other"}),
        (USER, {"name": "alice"}, {"name": "alice", "domain": "other"}),
        (ROLE, {"name": "auditor"}, {"name": "auditor", "domain": "other"}),
        (DOMAIN, {"name": "dept"}, None),
        (REGION, {"id": "east"}, {"id": "west"}),
    ],
)
def test_sim_keeps_keystones_unique_names_unique(
    sim: SimProvider, kind: str, props: dict[str, str], elsewhere: dict[str, str] | None
) -> None:
    """A second one of the same name (in the same domain) is Keystone's 409, which the
    worker reads as "someone holds it"; once the first is deleted, the name is free."""
    first = ctx("first", kind)
    physical_id = sim.create(first, props)
    with pytest.raises(ResourceExistsError, match="already exists"):
        sim.create(ctx("second", kind), props)
    if elsewhere is not None:
        sim.create(ctx("third", kind), elsewhere)
    sim.delete(first, physical_id)
    sim.create(ctx("second", kind), props)


def test_sim_never_keeps_a_users_password(sim: SimProvider) -> None:
    step = ctx("user", USER)
    physical_id = sim.create(step, {"password": "hunter2-secret", "email": "a@example.org"})
    attributes = sim.observe(step, physical_id).attributes
    assert attributes["email"] == "a@example.org"
    assert attributes["password_expires_at"] is None
    assert "hunter2-secret" not in json.dumps(attributes)


def test_sim_region_reference_is_its_encoded_id(sim: SimProvider) -> None:
    """get_resource of a region gives Keystone's id, the template's URL-encoded (Heat's)."""
    step = ctx("region", REGION)
    physical_id = sim.create(step, {"id": "east 1"})
    assert sim.observe(step, physical_id).reference == "east%201"
    unnamed = ctx("unnamed", REGION)
    other = sim.create(unnamed, {})
    assert sim.observe(unnamed, other).reference is None  # its id, as Keystone makes one


def test_sim_endpoint_of_a_deleted_service_is_refused(sim: SimProvider) -> None:
    service_step = ctx("service", SERVICE)
    service = sim.create(service_step, {"type": "metering"})
    props = {"service": service, "interface": "public", "url": "http://x"}
    sim.create(ctx("endpoint", ENDPOINT), props)
    sim.delete(service_step, service)
    with pytest.raises(ProviderError, match="could not be found"):
        sim.create(ctx("endpoint2", ENDPOINT), props)


def test_sim_never_stores_a_password_in_clear(sim: SimProvider) -> None:
    """Not in the properties the sim keeps either, which its audit shows."""
    user = sim.create(ctx("user", USER), {"password": "hunter2-secret", "name": "bob"})
    server_props = {"flavor": "m1.tiny", "image": "cirros", "admin_pass": "hunter2-secret"}
    server = sim.create(ctx("server", "OS::Nova::Server"), server_props)
    for physical_id in (user, server):
        resource = sim.resource(physical_id)
        assert resource is not None
        assert "hunter2-secret" not in json.dumps(resource.properties)
    assert sim.resource(user).properties["name"] == "bob"  # type: ignore[union-attr]
    assert "hunter2-secret" not in repr(sim.audit())


def test_sim_region_id_is_encoded_whole(sim: SimProvider) -> None:
    """As the openstack provider quotes it: a '/' too (validation refuses one first)."""
    step = ctx("region", REGION)
    physical_id = sim.create(step, {"id": "east/1"})
    assert sim.observe(step, physical_id).reference == "east%2F1"
