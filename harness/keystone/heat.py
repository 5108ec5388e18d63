"""cool-api in a Keystone catalog as Heat: service type ``orchestration``, name ``heat``.

Heat's clients (the ``openstack stack`` commands, openstacksdk and Ansible,
gophercloud and Terraform, Horizon) find Heat's API there, at an endpoint that
carries the project id: Keystone puts the token's project in place of
``$(project_id)s`` (heat-api.md 1.1). cool-api serves that API at
``/v1/{project_id}/...``, so once this entry exists ``openstack stack list``
works against cool with no flag. cool's own CLI keeps ``orchestration-cool``.
"""

from __future__ import annotations

from harness.keystone.admin import KeystoneAdmin

SERVICE_TYPE = "orchestration"
SERVICE_NAME = "heat"


def endpoint_url(api_url: str) -> str:
    """Heat's endpoint on the cool-api at ``api_url``, as Keystone stores it."""
    return f"{api_url.rstrip('/')}/v1/$(project_id)s"


def register(admin: KeystoneAdmin, api_url: str) -> str:
    """The catalog entry for the cool-api at ``api_url`` (moved there if the catalog
    had one); the service id."""
    return admin.ensure_endpoint(SERVICE_TYPE, endpoint_url(api_url), name=SERVICE_NAME)
