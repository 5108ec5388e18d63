"""Neutron's QoS types for the openstack provider: a policy and its rules.

A policy has Neutron's standard attributes: it is marked in its description
like a network (:class:`cool.clouds.openstack.neutron._Tagged`). A rule has
neither; Neutron keeps at most one bandwidth limit per direction, and one DSCP mark,
in a policy, so a rule is found by its policy and kind (a link, found by its ends).
Its physical id is ``<policy id>:<rule id>`` (a delete needs both, and may no longer
resolve the template's ``policy``); ``get_resource`` gives the rule's id, as in Heat.
Neutron's default policy lets only administrators and project managers create
either: a member gets Neutron's 403, which fails the build with a note.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from openstack import exceptions as os_exceptions

from cool.clouds.base import Found, Observed, ProviderError, StepContext
from cool.clouds.openstack import identity
from cool.clouds.openstack.cloud import Cloud, Handler, body, given, own, show
from cool.clouds.openstack.errors import cloud_message
from cool.clouds.openstack.neutron import _Tagged


class QoSPolicy(_Tagged):
    kind, plural = "qos_policy", "qos_policies"

    def _create_body(self, cloud: Cloud, ctx: StepContext, props: Mapping[str, Any]) -> dict:
        attrs = body(props, {"shared": "shared", "tenant_id": "project_id"})
        return {"name": props.get("name") or ctx.cloud_name, **attrs}

    def _description(self, ctx: StepContext, properties: Mapping[str, Any]) -> str:
        """The template's description, with the mark after it."""
        return identity.described(ctx, properties.get("description"))

    def _find_filters(self, ctx: StepContext) -> dict[str, Any]:
        return {"name": ctx.properties.get("name") or ctx.cloud_name}

    def _attributes(self, cloud: Cloud, resource: Any) -> dict[str, Any]:
        return {"rules": list(resource.rules or ()), "show": show(resource)}


class _Rule:
    """A rule of a policy; ``noun`` is openstacksdk's (``bandwidth_limit_rule``)."""

    noun = ""
    fields: tuple[str, ...] = ()
    # What is unique in a policy besides the kind, with its default.
    keyed_by: ClassVar[Mapping[str, Any]] = {}

    def _sdk(self, cloud: Cloud, verb: str) -> Callable[..., Any]:
        return getattr(cloud.conn.network, f"{verb}_qos_{self.noun}")

    @staticmethod
    def _policy_id(cloud: Cloud, ref: Any) -> str:
        return str(cloud._find(cloud.conn.network.find_qos_policy, "QoS policy", ref).id)

    def create(self, cloud: Cloud, ctx: StepContext, properties: Mapping[str, Any]) -> str:
        policy = self._policy_id(cloud, properties["policy"])
        attrs = {name: properties[name] for name in self.fields if given(properties.get(name))}
        try:
            rule = self._sdk(cloud, "create")(policy, **attrs)
        except os_exceptions.ConflictException as exc:
            # The policy has this kind of rule already (another step's, or a template
            # with two): no retry will change that, unlike most 409s.
            raise ProviderError(
                f"create {ctx.resource_name} ({ctx.resource_type}): {cloud_message(exc)} (HTTP 409)"
            ) from exc
        return f"{policy}:{rule.id}"

    def find(self, cloud: Cloud, ctx: StepContext) -> list[Found]:
        """A rule has no tags: it is found by its policy and by everything the template
        says of it, and only in a policy of this build (its mark says so). A rule in
        another policy cannot be told apart from someone else's, so none is found there:
        after a crash at the create, a rule may be left in a shared policy (a leak,
        never another build's rule deleted or adopted)."""
        props = ctx.properties
        try:
            policy = self._policy_id(cloud, props["policy"])
            if not identity.of_build(ctx, cloud.conn.network.get_qos_policy(policy)):
                return []
            rules = list(getattr(cloud.conn.network, f"qos_{self.noun}s")(policy))
        except (KeyError, ProviderError, os_exceptions.NotFoundException):
            return []  # the policy is gone: so are its rules
        wanted = {key: props.get(key) or default for key, default in self.keyed_by.items()}
        wanted.update({key: props[key] for key in self.fields if given(props.get(key))})
        return [
            Found(f"{policy}:{rule.id}")
            for rule in rules
            if all(getattr(rule, key, None) == value for key, value in wanted.items())
        ]

    def observe(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> Observed:
        policy, _, rule_id = physical_id.partition(":")
        with own(f"QoS {self.noun.replace('_', ' ')}", rule_id):
            rule = self._sdk(cloud, "get")(rule_id, policy)
        return Observed(ready=True, attributes={"show": show(rule)}, reference=rule_id)

    def delete(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> None:
        policy, _, rule_id = physical_id.partition(":")
        self._sdk(cloud, "delete")(rule_id, policy, ignore_missing=True)

    def is_deleted(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> bool:
        policy, _, rule_id = physical_id.partition(":")
        try:
            self._sdk(cloud, "get")(rule_id, policy)
        except os_exceptions.NotFoundException:
            return True
        return False


class BandwidthLimitRule(_Rule):
    noun = "bandwidth_limit_rule"
    fields = ("max_kbps", "max_burst_kbps", "direction")
    keyed_by: ClassVar[Mapping[str, Any]] = {"direction": "egress"}


class DscpMarkingRule(_Rule):
    noun = "dscp_marking_rule"
    fields = ("dscp_mark",)


HANDLERS: Mapping[str, Handler] = {
    "OS::Neutron::QoSPolicy": QoSPolicy(),
    "OS::Neutron::QoSBandwidthLimitRule": BandwidthLimitRule(),
    "OS::Neutron::QoSDscpMarkingRule": DscpMarkingRule(),
}
