"""Heat's AWS types for the openstack provider, on the native handlers.

An AWS::EC2::Instance is an OS::Nova::Server and an AWS::EC2::SecurityGroup an
OS::Neutron::SecurityGroup, as in Heat: each handler here translates the step's
properties (:mod:`cool.clouds.aws`) and hands the call to the native handler with the
step's own marks, so find, adoption after a crash, readiness, failures and deletes are
the server's and the security group's. Only the attributes are the AWS type's.

An AWS::AutoScaling::LaunchConfiguration creates nothing: its id and ``get_resource``
are the step's cloud name (Heat's physical resource name). With ``InstanceId`` it reads
that server, as Heat does, for the image, flavor, key pair and security groups the
configuration does not give, and shows them in its ``show`` attribute.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from cool.clouds import aws
from cool.clouds.base import Found, Observed, ProviderError, StepContext
from cool.clouds.openstack.cloud import Cloud, Handler, recall_answer, remember_answer
from cool.clouds.openstack.neutron import SecurityGroup as NeutronSecurityGroup
from cool.clouds.openstack.nova import Server


def _as_server(ctx: StepContext, properties: Mapping[str, Any]) -> dict[str, Any]:
    return aws.translated(aws.instance_as_server, properties, f"instance {ctx.resource_name}")


def _answered_for(ctx: StepContext, native: StepContext, physical_id: str) -> str:
    """What the native create's reply told (remember_answer) is for the step's own
    context, which its looks pass: the native one is a copy made for the create."""
    answer = recall_answer(native, physical_id)
    if answer is not None:
        remember_answer(ctx, physical_id, answer)
    return physical_id


class Instance:
    """A Nova server; its attributes as Heat's Instance resolves them."""

    def __init__(self) -> None:
        self._server = Server()

    def _native(self, ctx: StepContext) -> StepContext:
        return replace(ctx, properties=_as_server(ctx, ctx.properties))

    def create(self, cloud: Cloud, ctx: StepContext, properties: Mapping[str, Any]) -> str:
        native = self._native(ctx)
        physical_id = self._server.create(cloud, native, _as_server(ctx, properties))
        return _answered_for(ctx, native, physical_id)

    def find(self, cloud: Cloud, ctx: StepContext) -> list[Found]:
        return self._server.find(cloud, ctx)

    def observe(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> Observed:
        observed = self._server.observe(cloud, self._native(ctx), physical_id)
        if not observed.ready:
            return observed
        shown = observed.attributes.get("show") or {}
        zone = shown.get("OS-EXT-AZ:availability_zone") or shown.get("availability_zone")
        attributes = aws.instance_attributes(observed.attributes, ctx.properties, zone)
        return Observed(ready=True, attributes=attributes)

    def delete(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> None:
        self._server.delete(cloud, ctx, physical_id)

    def is_deleted(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> bool:
        return self._server.is_deleted(cloud, ctx, physical_id)


class SecurityGroup:
    """A Neutron security group; a rule's source group named by name is looked up (Neutron
    takes only ids), so the rules converge as the native type's do."""

    def __init__(self) -> None:
        self._group = NeutronSecurityGroup()

    def _native(self, cloud: Cloud, ctx: StepContext, props: Mapping[str, Any]) -> StepContext:
        native = aws.translated(
            aws.security_group_as_neutron, props, f"security group {ctx.resource_name}"
        )
        for rule in native["rules"]:
            if rule.get("remote_group_id"):
                rule["remote_group_id"] = cloud.security_group_ids([rule["remote_group_id"]])[0]
        return replace(ctx, properties=native)

    def create(self, cloud: Cloud, ctx: StepContext, properties: Mapping[str, Any]) -> str:
        native = self._native(cloud, ctx, properties)
        return _answered_for(ctx, native, self._group.create(cloud, native, native.properties))

    def find(self, cloud: Cloud, ctx: StepContext) -> list[Found]:
        return self._group.find(cloud, replace(ctx, properties={}))

    def observe(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> Observed:
        if ctx.external_id is not None:  # someone else's group: only read
            return self._group.observe(cloud, replace(ctx, properties={}), physical_id)
        return self._group.observe(cloud, self._native(cloud, ctx, ctx.properties), physical_id)

    def delete(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> None:
        self._group.delete(cloud, ctx, physical_id)

    def is_deleted(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> bool:
        return self._group.is_deleted(cloud, ctx, physical_id)


class LaunchConfiguration:
    """Data: nothing to create, find or delete (a create after a takeover makes nothing
    twice); ``InstanceId``'s server is read at create and at observe."""

    _FROM_SERVER = ("ImageId", "InstanceType", "KeyName", "SecurityGroups")

    def _effective(self, cloud: Cloud, props: Mapping[str, Any]) -> dict[str, Any]:
        """The properties, completed from InstanceId's server as Heat completes them."""
        effective = {k: v for k, v in props.items() if v is not None}
        instance_id = props.get("InstanceId")
        if not instance_id:
            return effective
        server = cloud.conn.compute.find_server(str(instance_id), ignore_missing=True)
        if server is None:
            raise ProviderError(f"InstanceId: server {instance_id!r} not found")
        derived = {
            "ImageId": (server.image or {}).get("id"),
            "InstanceType": (server.flavor or {}).get("id")
            or (server.flavor or {}).get("original_name"),
            "KeyName": server.key_name,
            "SecurityGroups": [g["name"] for g in server.security_groups or ()],
        }
        for key in self._FROM_SERVER:
            effective.setdefault(key, derived[key])
        return effective

    def create(self, cloud: Cloud, ctx: StepContext, properties: Mapping[str, Any]) -> str:
        self._effective(cloud, properties)
        return ctx.cloud_name

    def find(self, cloud: Cloud, ctx: StepContext) -> list[Found]:
        return []

    def observe(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> Observed:
        shown = self._effective(cloud, ctx.properties)
        return Observed(ready=True, reference=physical_id, attributes={"show": shown})

    def delete(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> None:
        return None

    def is_deleted(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> bool:
        return True


HANDLERS: Mapping[str, Handler] = {
    aws.INSTANCE: Instance(),
    aws.SECURITY_GROUP: SecurityGroup(),
    aws.LAUNCH_CONFIGURATION: LaunchConfiguration(),
}
