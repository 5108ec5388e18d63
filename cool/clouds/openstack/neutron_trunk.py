"""OS::Neutron::Trunk for the openstack provider (Neutron's trunk extension).

A trunk is a Neutron resource with standard attributes, marked as the others are
(:class:`cool.clouds.openstack.neutron._Tagged`): its ``description`` carries the
step's mark from the create on (after the template's own text, in parentheses); its
tags follow with ``[openstack] neutron_tags``. It is built, as Heat reads it, once
Neutron says ACTIVE or DOWN (DOWN until a server's port binding makes a back end
bring it up).

Order: Neutron refuses to delete a port that is a trunk's parent or sub-port, so
a trunk references its ports (the build deletes it first), and its sub-ports go
with it (Neutron drops them in the trunk's delete). Neutron also refuses to delete
a disabled trunk (``admin_state_up: false``): the delete enables it first. A 409 at
create is Neutron refusing those ports (a segmentation taken twice, a port already in
a trunk): the step adopts its own trunk if a lost reply made one, and otherwise fails
with Neutron's words (not retried, as other 409s are).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from openstack import exceptions as os_exceptions

from cool.clouds.base import ResourceExistsError, StepContext
from cool.clouds.openstack import identity
from cool.clouds.openstack.cloud import Cloud, Handler, body
from cool.clouds.openstack.errors import cloud_message
from cool.clouds.openstack.neutron import _Tagged

TRUNK = "OS::Neutron::Trunk"


class Trunk(_Tagged):
    kind, plural = "trunk", "trunks"
    waits_for_status = True
    attributes = ("port_id", "status", "sub_ports", "name", "admin_state_up", "tenant_id")

    def _create_body(self, cloud: Cloud, ctx: StepContext, props: Mapping[str, Any]) -> dict:
        sub_ports = [
            {
                "port_id": cloud.port_id(sub_port["port"]),
                "segmentation_type": sub_port["segmentation_type"],
                "segmentation_id": int(sub_port["segmentation_id"]),
            }
            for sub_port in props.get("sub_ports") or ()
        ]
        return {
            "name": self._name(ctx, props),
            "port_id": cloud.port_id(props["port"]),
            "sub_ports": sub_ports,
            **body(props, {"admin_state_up": "admin_state_up"}),
        }

    @staticmethod
    def _name(ctx: StepContext, props: Mapping[str, Any]) -> str:
        return str(props.get("name") or ctx.cloud_name)

    def _description(self, ctx: StepContext, properties: Mapping[str, Any]) -> str:
        """The template's description, with the mark after it (cut to Neutron's 255)."""
        return identity.described(ctx, properties.get("description"))

    def _find_filters(self, ctx: StepContext) -> dict[str, Any]:
        return {"name": self._name(ctx, ctx.properties)}

    def create(self, cloud: Cloud, ctx: StepContext, properties: Mapping[str, Any]) -> str:
        try:
            return super().create(cloud, ctx, properties)
        except os_exceptions.ConflictException as exc:
            # The runner looks for its own trunk (a lost reply) before it reports this.
            raise ResourceExistsError(
                f"create {ctx.resource_name} ({TRUNK}): {cloud_message(exc)} (HTTP 409)"
            ) from exc

    def delete(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> None:
        network = cloud.conn.network
        try:
            trunk = network.get_trunk(physical_id)
        except os_exceptions.NotFoundException:
            return
        if trunk.is_admin_state_up is False:  # Neutron keeps a disabled trunk
            network.update_trunk(physical_id, admin_state_up=True)
        network.delete_trunk(physical_id, ignore_missing=True)


HANDLERS: Mapping[str, Handler] = {TRUNK: Trunk()}
