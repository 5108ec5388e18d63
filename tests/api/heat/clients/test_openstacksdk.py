"""openstacksdk's cloud layer against cool, as Ansible's ``openstack.cloud.stack``
module calls it: ``get_stack``, ``create_stack(wait=True)``,
``orchestration.get_stack(id)``, ``delete_stack(wait=True)``."""

from __future__ import annotations

from collections.abc import Iterator

import openstack
import pytest
from openstack.connection import Connection

from tests.api.heat.clients.helpers import TEMPLATES, HeatService, unique

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def conn(heat_service: HeatService) -> Iterator[Connection]:
    """A connection as the member, with no clouds.yaml and no OS_* variables read."""
    connection = openstack.connect(
        auth_type="password",
        auth=heat_service.auth(heat_service.member),
        identity_api_version="3",
        load_yaml_config=False,
        load_envvars=False,
    )
    try:
        yield connection
    finally:
        connection.close()


def test_ansibles_calls_create_read_and_delete(conn: Connection) -> None:
    name = unique("ansible")
    assert conn.get_stack(name) is None  # state: present, and it is absent: create

    created = conn.create_stack(
        name, template_file=str(TEMPLATES / "hello.yaml"), wait=True, greeting="salut"
    )
    assert created is not None
    assert created.name == name
    assert created.status == "CREATE_COMPLETE", created.status_reason
    assert created.outputs == [
        {"output_key": "said", "output_value": "salut", "description": "What the speaker said."}
    ]

    again = conn.orchestration.get_stack(created.id)  # the module's last read
    assert again.name == name
    assert again.status == "CREATE_COMPLETE"
    assert again.parameters["greeting"] == "salut"
    assert conn.get_stack(name).id == created.id

    assert conn.delete_stack(created.id, wait=True) is True  # state: absent
    assert conn.get_stack(name) is None
    assert conn.get_stack(created.id) is None  # DELETE_COMPLETE is "no such stack" to the sdk
