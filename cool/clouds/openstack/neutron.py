"""Neutron's types for the openstack provider: networks, subnets, routers and their
interfaces and gateways, ports, security groups and floating IPs.

Resources with Neutron's standard attributes carry cool's mark in their
description from their create on, and cool's tags where the create takes them
(ports) or ``[openstack] neutron_tags`` asks (:mod:`cool.clouds.openstack.identity`).
Router interfaces and gateways and floating IP associations are links, not
resources: they are found by what they link. Deletes wait for Neutron's "in use"
conflicts (409, retried by the worker) to clear, and a router's own interfaces go
before the router.
"""

from __future__ import annotations

import contextlib
import ipaddress
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from openstack import exceptions as os_exceptions

from cool.clouds.base import (
    Found,
    Observed,
    ProviderError,
    ResourceFailedError,
    ResourceGoneError,
    StepContext,
)
from cool.clouds.openstack import identity
from cool.clouds.openstack.cloud import (
    ACTIVE_OR_DOWN,
    Cloud,
    Handler,
    body,
    given,
    own,
    remember_answer,
    show,
)
from cool.clouds.openstack.errors import cloud_message

_SDK_NAMES = {"subnet_id": "subnet", "port_id": "port"}  # openstacksdk's (it renamed them)
_ROUTER_INTERFACE_OWNERS = (
    "network:router_interface",
    "network:router_interface_distributed",
    "network:ha_router_replicated_interface",
)


def _picked(resource: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """Heat's attributes of a Neutron resource: its API fields by those names, and ``show``."""
    shown = show(resource)
    shown.setdefault("tenant_id", shown.get("project_id"))
    return {**{name: shown.get(name) for name in names}, "show": shown}


class _Tagged:
    """A Neutron resource with standard attributes: marked at create (its description),
    found by its mark."""

    kind = ""  # openstacksdk's proxy noun: network, subnet, router, port, security_group, ip
    plural = ""
    attributes: tuple[str, ...] = ()
    waits_for_status = False  # ACTIVE or DOWN before it counts as built (as Heat)

    def _create_body(self, cloud: Cloud, ctx: StepContext, props: Mapping[str, Any]) -> dict:
        raise NotImplementedError

    def _proxy(self, cloud: Cloud, verb: str) -> Callable[..., Any]:
        return getattr(cloud.conn.network, f"{verb}_{self.kind}")

    tags_in_create = False  # Neutron takes tags in a create's body for ports only

    def create(self, cloud: Cloud, ctx: StepContext, properties: Mapping[str, Any]) -> str:
        resource = self._create_tagged(cloud, ctx, properties)
        physical_id = str(resource.id)
        # The reply, tags set, is the resource as a GET would show it: the step's first
        # look reads it (remember_answer), unless a type's look does more than read
        # (a security group's converges its rules).
        if type(self).observe is _Tagged.observe:
            observed = self._observed(cloud, resource)
            if observed.ready:
                remember_answer(ctx, physical_id, observed)
        return physical_id

    def _create_tagged(self, cloud: Cloud, ctx: StepContext, properties: Mapping[str, Any]) -> Any:
        """The create's reply, with the tags it must carry set (openstacksdk updates them
        from the PUT's reply)."""
        attrs = {
            **dict(properties.get("value_specs") or {}),
            **self._create_body(cloud, ctx, properties),
        }
        attrs["description"] = self._description(ctx, properties)
        if self.tags_in_create:
            attrs["tags"] = self._tags(ctx)
        resource = self._proxy(cloud, "create")(**attrs)
        if not self.tags_in_create and (tags := self._tags(ctx, cloud.neutron_tags)):
            cloud.conn.network.set_tags(resource, tags)  # a second call: only when asked
        return resource

    @staticmethod
    def _tags(ctx: StepContext, ours: bool = True) -> list[str]:
        """The template's tags, then cool's own when ``ours`` (free in a create that
        takes them; otherwise only with ``[openstack] neutron_tags``)."""
        own_tags = identity.neutron_tags(ctx) if ours else []
        return [*(ctx.properties.get("tags") or ()), *own_tags]

    def _description(self, ctx: StepContext, properties: Mapping[str, Any]) -> str:
        return identity.mark(ctx)

    def _find_filters(self, ctx: StepContext) -> dict[str, Any]:
        return {"description": identity.mark(ctx)}

    def find(self, cloud: Cloud, ctx: StepContext) -> list[Found]:
        listing = getattr(cloud.conn.network, self.plural)
        return identity.oldest_first(
            listing(**self._find_filters(ctx)),
            keep=lambda r: identity.marked(ctx, r.description),
        )

    def _get(self, cloud: Cloud, physical_id: str) -> Any:
        return self._proxy(cloud, "get")(physical_id)

    def observe(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> Observed:
        with own(self.kind, physical_id):
            resource = self._get(cloud, physical_id)
        if not self._is_ready(resource):
            return self._observed(cloud, resource)
        tags = self._tags(ctx, self.tags_in_create or cloud.neutron_tags)
        # An adopted resource (external_id) is only read: another project's may not be
        # tagged, and the project's own must not carry a build's tags past the build.
        if ctx.external_id is None and not set(tags) <= set(resource.tags or ()):
            # its creator died before tagging it
            cloud.conn.network.set_tags(resource, sorted({*(resource.tags or ()), *tags}))
        return self._observed(cloud, resource)

    def _is_ready(self, resource: Any) -> bool:
        status = str(getattr(resource, "status", "") or "")
        return status != "ERROR" and (not self.waits_for_status or status in ACTIVE_OR_DOWN)

    def _observed(self, cloud: Cloud, resource: Any) -> Observed:
        if self._is_ready(resource):
            return Observed(ready=True, attributes=self._attributes(cloud, resource))
        if getattr(resource, "status", None) == "ERROR":
            return Observed(ready=False, failed=f"{self.kind.replace('_', ' ')} went to ERROR")
        return Observed(ready=False)

    def _attributes(self, cloud: Cloud, resource: Any) -> dict[str, Any]:
        return _picked(resource, self.attributes)

    def delete(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> None:
        self._proxy(cloud, "delete")(physical_id, ignore_missing=True)
        # Neutron deletes the row before it answers (a 409 while in use raises): gone.
        remember_answer(ctx, physical_id, True)

    def is_deleted(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> bool:
        try:
            self._get(cloud, physical_id)  # a GET by id (find_* would list on a 404)
        except os_exceptions.NotFoundException:
            return True
        return False


def _project(props: Mapping[str, Any]) -> dict[str, Any]:
    return {"project_id": props["tenant_id"]} if given(props.get("tenant_id")) else {}


class Net(_Tagged):
    kind, plural = "network", "networks"
    waits_for_status = True
    attributes = (
        "status", "name", "subnets", "admin_state_up", "tenant_id", "port_security_enabled",
        "mtu", "qos_policy_id", "l2_adjacency", "segments",
    )  # fmt: skip

    def _create_body(self, cloud: Cloud, ctx: StepContext, props: Mapping[str, Any]) -> dict:
        attrs = body(
            props,
            {
                "admin_state_up": "admin_state_up",
                "shared": "shared",
                "port_security_enabled": "port_security_enabled",
                "dns_domain": "dns_domain",
            },
        )
        if given(props.get("qos_policy")):
            attrs["qos_policy_id"] = str(
                cloud._find(
                    cloud.conn.network.find_qos_policy, "QoS policy", props["qos_policy"]
                ).id
            )
        return {"name": props.get("name") or ctx.cloud_name, **attrs, **_project(props)}


class ProviderNet(Net):
    """A network with Neutron's provider attributes (Heat's ProviderNet): admin-only by
    Neutron's default policy, so a member's build fails with Neutron's 403 as its note."""

    attributes = ("status", "subnets", "segments")

    def _create_body(self, cloud: Cloud, ctx: StepContext, props: Mapping[str, Any]) -> dict:
        return {
            "name": props.get("name") or ctx.cloud_name,
            **body(
                props,
                {
                    "network_type": "provider_network_type",
                    "physical_network": "provider_physical_network",
                    "segmentation_id": "provider_segmentation_id",
                    "admin_state_up": "admin_state_up",
                    "shared": "shared",
                    "port_security_enabled": "port_security_enabled",
                    "router_external": "is_router_external",
                    "dns_domain": "dns_domain",
                    "availability_zone_hints": "availability_zone_hints",
                },
            ),
            **_project(props),
        }


class Subnet(_Tagged):
    kind, plural = "subnet", "subnets"
    attributes = (
        "name", "network_id", "tenant_id", "allocation_pools", "gateway_ip", "host_routes",
        "ip_version", "cidr", "dns_nameservers", "enable_dhcp",
    )  # fmt: skip

    def _create_body(self, cloud: Cloud, ctx: StepContext, props: Mapping[str, Any]) -> dict:
        attrs = body(
            props,
            {
                "cidr": "cidr",
                "ip_version": "ip_version",
                "enable_dhcp": "enable_dhcp",
                "allocation_pools": "allocation_pools",
                "dns_nameservers": "dns_nameservers",
                "host_routes": "host_routes",
                "ipv6_ra_mode": "ipv6_ra_mode",
                "ipv6_address_mode": "ipv6_address_mode",
                "prefixlen": "prefixlen",
            },
        )
        attrs["network_id"] = cloud.network_id(props.get("network") or props.get("network_id"))
        if "gateway_ip" in props and props["gateway_ip"] is not None:
            # Heat: an empty gateway_ip means no gateway; absent means Neutron picks one.
            attrs["gateway_ip"] = props["gateway_ip"] or None
        if given(props.get("subnetpool")):
            pool = cloud._find(
                cloud.conn.network.find_subnet_pool, "subnet pool", props["subnetpool"]
            )
            attrs["subnetpool_id"] = str(pool.id)
        if given(props.get("segment")):
            segment = cloud._find(cloud.conn.network.find_segment, "segment", props["segment"])
            attrs["segment_id"] = str(segment.id)
        return {"name": props.get("name") or ctx.cloud_name, **attrs, **_project(props)}


class Router(_Tagged):
    kind, plural = "router", "routers"
    waits_for_status = True
    attributes = ("status", "external_gateway_info", "name", "admin_state_up", "tenant_id")

    def _create_body(self, cloud: Cloud, ctx: StepContext, props: Mapping[str, Any]) -> dict:
        attrs = body(
            props, {"admin_state_up": "admin_state_up", "distributed": "distributed", "ha": "ha"}
        )
        gateway = props.get("external_gateway_info")
        if given(gateway):
            info: dict[str, Any] = {"network_id": cloud.network_id(gateway["network"])}
            if gateway.get("enable_snat") is not None:
                info["enable_snat"] = gateway["enable_snat"]
            fixed = [
                {
                    **({"ip_address": f["ip_address"]} if given(f.get("ip_address")) else {}),
                    **(
                        {"subnet_id": cloud.subnet_id(f["subnet"])}
                        if given(f.get("subnet"))
                        else {}
                    ),
                }
                for f in gateway.get("external_fixed_ips") or ()
            ]
            if fixed:
                info["external_fixed_ips"] = fixed
            attrs["external_gateway_info"] = info
        return {"name": props.get("name") or ctx.cloud_name, **attrs}

    def delete(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> None:
        """Its interfaces first: Neutron refuses to delete a router that has any."""
        network = cloud.conn.network
        for port in list(network.ports(device_id=physical_id)):  # one listing, every owner
            if port.device_owner in _ROUTER_INTERFACE_OWNERS:
                with contextlib.suppress(os_exceptions.NotFoundException):
                    network.remove_interface_from_router(physical_id, port=port.id)
        network.delete_router(physical_id, ignore_missing=True)
        remember_answer(ctx, physical_id, True)  # as _Tagged.delete


class Port(_Tagged):
    kind, plural = "port", "ports"
    waits_for_status = True
    tags_in_create = True
    attributes = (
        "admin_state_up", "device_id", "device_owner", "fixed_ips", "mac_address", "name",
        "network_id", "security_groups", "status", "tenant_id", "allowed_address_pairs",
        "port_security_enabled", "qos_policy_id", "dns_assignment",
    )  # fmt: skip

    def _create_body(self, cloud: Cloud, ctx: StepContext, props: Mapping[str, Any]) -> dict:
        attrs = body(
            props,
            {
                "admin_state_up": "admin_state_up",
                "device_id": "device_id",
                "device_owner": "device_owner",
                "mac_address": "mac_address",
                "allowed_address_pairs": "allowed_address_pairs",
                "binding:vnic_type": "binding:vnic_type",
                "port_security_enabled": "port_security_enabled",
                "dns_name": "dns_name",
                "propagate_uplink_status": "propagate_uplink_status",
            },
        )
        attrs["network_id"] = cloud.network_id(props.get("network") or props.get("network_id"))
        if props.get("no_fixed_ips"):
            attrs["fixed_ips"] = []
        elif given(props.get("fixed_ips")):
            attrs["fixed_ips"] = [_fixed_ip(cloud, f) for f in props["fixed_ips"]]
        if props.get("security_groups") is not None:
            attrs["security_group_ids"] = cloud.security_group_ids(props["security_groups"])
        if given(props.get("qos_policy")):
            policy = cloud._find(
                cloud.conn.network.find_qos_policy, "QoS policy", props["qos_policy"]
            )
            attrs["qos_policy_id"] = str(policy.id)
        if "binding:vnic_type" in attrs:
            attrs["binding_vnic_type"] = attrs.pop("binding:vnic_type")
        return {"name": props.get("name") or ctx.cloud_name, **attrs}

    def _attributes(self, cloud: Cloud, resource: Any) -> dict[str, Any]:
        attributes = _picked(resource, self.attributes)
        subnet_ids = {f.get("subnet_id") for f in resource.fixed_ips or () if f.get("subnet_id")}
        attributes["subnets"] = [
            show(cloud.conn.network.get_subnet(subnet_id)) for subnet_id in sorted(subnet_ids)
        ]
        attributes["network"] = show(cloud.conn.network.get_network(resource.network_id))
        return attributes


def _fixed_ip(cloud: Cloud, entry: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    subnet = entry.get("subnet") or entry.get("subnet_id")
    if given(subnet):
        out["subnet_id"] = cloud.subnet_id(subnet)
    if given(entry.get("ip_address")):
        out["ip_address"] = entry["ip_address"]
    return out


class SecurityGroup(_Tagged):
    """Rules are reconciled on every look until they are exactly the template's, so a
    group adopted half-made (a worker died between two rule creates) is completed."""

    kind, plural = "security_group", "security_groups"

    def _create_body(self, cloud: Cloud, ctx: StepContext, props: Mapping[str, Any]) -> dict:
        return {"name": props.get("name") or ctx.cloud_name}

    def _description(self, ctx: StepContext, properties: Mapping[str, Any]) -> str:
        """The template's description, with the mark after it."""
        return identity.described(ctx, properties.get("description"))

    def _find_filters(self, ctx: StepContext) -> dict[str, Any]:
        return {"name": ctx.properties.get("name") or ctx.cloud_name}

    def create(self, cloud: Cloud, ctx: StepContext, properties: Mapping[str, Any]) -> str:
        """Its rules converge from those the reply lists (Neutron's default egress ones),
        and the group so made is the step's first look (remember_answer)."""
        group = self._create_tagged(cloud, ctx, properties)
        physical_id = str(group.id)
        rules = converge_rules(
            cloud, physical_id, properties.get("rules"), group.security_group_rules or ()
        )
        shown = {**show(group), "security_group_rules": rules}
        remember_answer(ctx, physical_id, Observed(ready=True, attributes={"show": shown}))
        return physical_id

    def observe(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> Observed:
        if ctx.external_id is None:  # an adopted group's rules are its owner's
            self._converge(cloud, physical_id, ctx.properties)
        return super().observe(cloud, ctx, physical_id)

    def _attributes(self, cloud: Cloud, resource: Any) -> dict[str, Any]:
        return {"show": show(resource)}

    def _converge(self, cloud: Cloud, group_id: str, props: Mapping[str, Any]) -> None:
        converge_rules(cloud, group_id, props.get("rules"))


_ANY_PREFIXES = frozenset({"0.0.0.0/0", "::/0"})


def _prefix(value: Any) -> str | None:
    """A remote prefix as Neutron compares them: a host is its /32 (/128), any is none."""
    if not value:
        return None
    try:
        text = str(ipaddress.ip_network(str(value), strict=False))
    except ValueError:
        return str(value)
    return None if text in _ANY_PREFIXES else text


def _rule_key(rule: Mapping[str, Any]) -> tuple[Any, ...]:
    """What makes two rules the same rule (Neutron's API names; its normal forms)."""
    low, high = rule.get("port_range_min"), rule.get("port_range_max")
    if (low, high) == (1, 65535):
        low = high = None
    return (
        rule.get("direction") or "ingress",
        rule.get("ethertype") or "IPv4",
        (str(rule["protocol"]) if rule.get("protocol") is not None else None),
        low,
        high,
        _prefix(rule.get("remote_ip_prefix")),
        rule.get("remote_group_id"),
    )


def _wanted_rule(group_id: str, rule: Mapping[str, Any]) -> dict[str, Any]:
    """A template rule as Neutron's body, Heat's way: remote_mode says which remote
    counts; a remote_group_id left empty is the group itself."""
    mode = rule.get("remote_mode") or "remote_ip_prefix"
    out: dict[str, Any] = {
        "direction": rule.get("direction") or "ingress",
        "ethertype": rule.get("ethertype") or "IPv4",
        "protocol": (str(rule["protocol"]) if given(rule.get("protocol")) else None),
        "port_range_min": rule.get("port_range_min"),
        "port_range_max": rule.get("port_range_max"),
        "remote_ip_prefix": None,
        "remote_group_id": None,
    }
    if mode == "remote_group_id":
        out["remote_group_id"] = rule.get("remote_group_id") or group_id
    else:
        out["remote_ip_prefix"] = rule.get("remote_ip_prefix") or None
    return out


def _rule_shown(rule: Any) -> dict[str, Any]:
    """A rule as Neutron lists it in its group, nulls kept (a template's get_attr reads
    them): openstacksdk's view less what it adds (``location``, a null ``name``). Only
    Neutron's internal ``standard_attr_id`` is not in it (openstacksdk drops it)."""
    shown = rule.to_dict(headers=False, computed=False, original_names=True)
    shown.pop("location", None)
    if shown.get("name") is None:
        shown.pop("name", None)
    shown["tags"] = list(shown.get("tags") or ())
    return shown


def _exists(exc: os_exceptions.ConflictException) -> bool:
    """Neutron's SecurityGroupRuleExists; not its other 409s (over quota, in use)."""
    return "already exists" in cloud_message(exc)


def converge_rules(
    cloud: Cloud, group_id: str, rules: Any, listed: Iterable[Mapping[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """Make the group's rules the template's; the group's rules after. Neutron's default
    egress rules stay only when the template gives no egress rule (Heat's rule).

    ``listed``: the group's rules as a reply just gave them (its create's), instead of
    listing them. The missing rules go in one bulk create (one transaction in Neutron);
    if one exists already (made by a create whose reply was lost), one at a time, and
    the rules are listed after. Any other refusal (a quota's 409) is the step's failure.
    """
    network = cloud.conn.network
    wanted = [_wanted_rule(group_id, r) for r in rules or ()]
    wanted_keys = {_rule_key(r) for r in wanted}
    gives_egress = any(r["direction"] == "egress" for r in wanted)
    if listed is None:
        existing = [
            _rule_shown(r) for r in network.security_group_rules(security_group_id=group_id)
        ]
    else:
        existing = [dict(r) for r in listed]
    kept: list[dict[str, Any]] = []
    for rule in existing:
        if rule["direction"] == "egress" and gives_egress and _rule_key(rule) not in wanted_keys:
            network.delete_security_group_rule(rule["id"], ignore_missing=True)
        else:
            kept.append(rule)
    have = {_rule_key(r) for r in kept}
    missing: dict[tuple[Any, ...], dict[str, Any]] = {}
    for rule in wanted:
        if _rule_key(rule) not in have:
            body_ = {k: v for k, v in rule.items() if v is not None}
            missing.setdefault(_rule_key(rule), {"security_group_id": group_id, **body_})
    if not missing:
        return kept
    try:
        made = list(network.create_security_group_rules(list(missing.values())))
    except os_exceptions.ConflictException as exc:
        if not _exists(exc):
            raise
        for body_ in missing.values():  # one was made by a lost reply: one by one
            try:
                network.create_security_group_rule(**body_)
            except os_exceptions.ConflictException as one:
                if not _exists(one):
                    raise
        return [_rule_shown(r) for r in network.security_group_rules(security_group_id=group_id)]
    return kept + [_rule_shown(r) for r in made]


class SecurityGroupRule:
    """One rule added to a group (Heat's OS::Neutron::SecurityGroupRule). A rule has no
    tags: it is marked in its description, so the step finds the rule it made, and only
    that one (another build's identical rule, or the group's own, never). Neutron keeps
    one rule of a kind per group: a create refused as existing is this step's own rule
    when it carries the mark (a lost reply), else the step's failure, as in Heat."""

    def _body(self, cloud: Cloud, ctx: StepContext, props: Mapping[str, Any]) -> dict:
        (group,) = cloud.security_group_ids([props["security_group"]])
        out: dict[str, Any] = {
            "security_group_id": group,
            "description": identity.described(ctx, props.get("description")),
            "direction": props.get("direction") or "ingress",
            "ethertype": props.get("ethertype") or "IPv4",
            "protocol": props.get("protocol") or "tcp",
        }
        for key in ("port_range_min", "port_range_max", "remote_ip_prefix"):
            if given(props.get(key)):
                out[key] = props[key]
        if given(props.get("remote_group")):
            (out["remote_group_id"],) = cloud.security_group_ids([props["remote_group"]])
        return out

    def create(self, cloud: Cloud, ctx: StepContext, properties: Mapping[str, Any]) -> str:
        network = cloud.conn.network
        body_ = self._body(cloud, ctx, properties)
        try:
            rule = network.create_security_group_rule(**body_)
        except os_exceptions.ConflictException as exc:
            if not _exists(exc):
                raise
            mine = self._mine(cloud, ctx, body_["security_group_id"])
            if not mine:
                raise ProviderError(
                    f"create {ctx.resource_name} ({ctx.resource_type}): {cloud_message(exc)} "
                    "(HTTP 409: the group has this rule already)"
                ) from exc
            return mine[0].physical_id
        remember_answer(ctx, str(rule.id), Observed(ready=True, attributes=_rule_attrs(rule)))
        return str(rule.id)

    def _mine(self, cloud: Cloud, ctx: StepContext, group: str) -> list[Found]:
        rules = cloud.conn.network.security_group_rules(security_group_id=group)
        return [Found(str(r.id)) for r in rules if identity.marked(ctx, r.description)]

    def find(self, cloud: Cloud, ctx: StepContext) -> list[Found]:
        try:
            (group,) = cloud.security_group_ids([ctx.properties["security_group"]])
        except (KeyError, ProviderError):
            return []  # the group is gone: so are its rules
        return self._mine(cloud, ctx, group)

    def observe(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> Observed:
        with own("security group rule", physical_id):
            rule = cloud.conn.network.get_security_group_rule(physical_id)
        return Observed(ready=True, attributes=_rule_attrs(rule))

    def delete(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> None:
        cloud.conn.network.delete_security_group_rule(physical_id, ignore_missing=True)
        remember_answer(ctx, physical_id, True)  # Neutron deletes before it answers

    def is_deleted(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> bool:
        try:
            cloud.conn.network.get_security_group_rule(physical_id)
        except os_exceptions.NotFoundException:
            return True
        return False


def _rule_attrs(rule: Any) -> dict[str, Any]:
    return {"show": _rule_shown(rule)}


class FloatingIP(_Tagged):
    kind, plural = "ip", "ips"

    def create(self, cloud: Cloud, ctx: StepContext, properties: Mapping[str, Any]) -> str:
        return _unreachable_is_transient(
            lambda: super(FloatingIP, self).create(cloud, ctx, properties),
            f"create {ctx.resource_name} (OS::Neutron::FloatingIP)",
        )

    attributes = (
        "router_id", "tenant_id", "floating_network_id", "fixed_ip_address",
        "floating_ip_address", "port_id",
    )  # fmt: skip

    def _create_body(self, cloud: Cloud, ctx: StepContext, props: Mapping[str, Any]) -> dict:
        network = props.get("floating_network") or props.get("floating_network_id")
        attrs: dict[str, Any] = {
            "floating_network_id": cloud.network_id(network),
            **body(
                props,
                {
                    "fixed_ip_address": "fixed_ip_address",
                    "floating_ip_address": "floating_ip_address",
                    "dns_name": "dns_name",
                    "dns_domain": "dns_domain",
                },
            ),
        }
        if given(props.get("floating_subnet")):
            attrs["subnet_id"] = cloud.subnet_id(props["floating_subnet"])
        if given(props.get("port_id")):
            attrs["port_id"] = cloud.port_id(props["port_id"])
        return attrs


def _unreachable_is_transient(call: Callable[[], Any], what: str) -> Any:
    """Neutron's 404 "External network ... is not reachable from subnet ..." for a
    floating IP on a port: retryable. The router interface it needs was just added,
    and Neutron can answer from a view that does not show it yet (seen with a
    router interface made a second before); if it is truly missing, the retries end
    in a failure that says so."""
    try:
        return call()
    except os_exceptions.NotFoundException as exc:
        message = cloud_message(exc)
        if "is not reachable from subnet" not in message:
            raise
        raise ProviderError(f"{what}: {message} (HTTP 404)", retryable=True) from exc


class FloatingIPAssociation:
    """A link: its physical id is ``<floating IP id>:<port id>``."""

    def _ids(self, cloud: Cloud, props: Mapping[str, Any]) -> tuple[str, str]:
        return str(props["floatingip_id"]), cloud.port_id(props["port_id"])

    def create(self, cloud: Cloud, ctx: StepContext, properties: Mapping[str, Any]) -> str:
        fip, port = self._ids(cloud, properties)
        attrs = body(properties, {"fixed_ip_address": "fixed_ip_address"})
        _unreachable_is_transient(
            lambda: cloud.conn.network.update_ip(fip, port_id=port, **attrs),
            f"create {ctx.resource_name} (OS::Neutron::FloatingIPAssociation)",
        )
        return f"{fip}:{port}"

    def find(self, cloud: Cloud, ctx: StepContext) -> list[Found]:
        props = ctx.properties
        if not (given(props.get("floatingip_id")) and given(props.get("port_id"))):
            return []
        try:
            fip_id, port = self._ids(cloud, props)
            fip = cloud.conn.network.get_ip(fip_id)
        except (ProviderError, os_exceptions.NotFoundException):
            return []  # what it would link is gone: so is the link
        return [Found(f"{fip_id}:{port}")] if fip.port_id == port else []

    def observe(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> Observed:
        fip_id, port_id = physical_id.split(":", 1)
        with own("floating IP", fip_id):
            fip = cloud.conn.network.get_ip(fip_id)
        if fip.port_id == port_id:
            return Observed(ready=True, attributes={"show": show(fip)})
        if fip.port_id:
            raise ResourceFailedError(f"floating IP {fip_id} is associated with port {fip.port_id}")
        raise ResourceGoneError(f"floating IP {fip_id} is not associated")

    @staticmethod
    def _current(cloud: Cloud, physical_id: str) -> tuple[str, str, Any]:
        fip_id, port_id = physical_id.split(":", 1)
        try:
            return fip_id, port_id, cloud.conn.network.get_ip(fip_id)
        except os_exceptions.NotFoundException:
            return fip_id, port_id, None

    def delete(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> None:
        fip_id, port_id, fip = self._current(cloud, physical_id)
        if fip is not None and fip.port_id == port_id:
            cloud.conn.network.update_ip(fip_id, port_id=None)

    def is_deleted(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> bool:
        _, port_id, fip = self._current(cloud, physical_id)
        return fip is None or fip.port_id != port_id


class RouterInterface:
    """A link: its physical id is ``<router id>:subnet_id=<id>`` or ``:port_id=<id>`` (Heat's)."""

    def _target(self, cloud: Cloud, props: Mapping[str, Any]) -> tuple[str, str, str]:
        router = cloud.router_id(props.get("router") or props.get("router_id"))
        if given(props.get("subnet") or props.get("subnet_id")):
            return router, "subnet_id", cloud.subnet_id(props.get("subnet") or props["subnet_id"])
        return router, "port_id", cloud.port_id(props.get("port") or props["port_id"])

    @staticmethod
    def _parse(physical_id: str) -> tuple[str, str, str]:
        router, _, link = physical_id.partition(":")
        key, _, value = link.partition("=")
        return router, key, value

    def _present(self, cloud: Cloud, router: str, key: str, value: str) -> bool:
        ports = cloud.conn.network.ports(device_id=router)
        if key == "port_id":
            return any(p.id == value for p in ports)
        return any(
            p.device_owner in _ROUTER_INTERFACE_OWNERS
            and any(f.get("subnet_id") == value for f in p.fixed_ips or ())
            for p in ports
        )

    def create(self, cloud: Cloud, ctx: StepContext, properties: Mapping[str, Any]) -> str:
        router, key, value = self._target(cloud, properties)
        cloud.conn.network.add_interface_to_router(router, **{_SDK_NAMES[key]: value})
        physical_id = f"{router}:{key}={value}"
        # Neutron answers once the interface is made: the step's first look.
        remember_answer(ctx, physical_id, self._observed(router, key, value))
        return physical_id

    @staticmethod
    def _observed(router: str, key: str, value: str) -> Observed:
        return Observed(ready=True, attributes={"show": {"router_id": router, key: value}})

    def find(self, cloud: Cloud, ctx: StepContext) -> list[Found]:
        """The link itself, from the step's properties (a router or subnet that is
        gone has no interface left to find)."""
        try:
            router, key, value = self._target(cloud, ctx.properties)
        except (KeyError, ProviderError):
            return []
        return (
            [Found(f"{router}:{key}={value}")] if self._present(cloud, router, key, value) else []
        )

    def observe(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> Observed:
        router, key, value = self._parse(physical_id)
        with own("router", router):
            cloud.conn.network.get_router(router)
        if not self._present(cloud, router, key, value):
            raise ResourceGoneError(f"router {router} has no interface with {key} {value}")
        return self._observed(router, key, value)

    def delete(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> None:
        router, key, value = self._parse(physical_id)
        with contextlib.suppress(os_exceptions.NotFoundException):
            cloud.conn.network.remove_interface_from_router(router, **{_SDK_NAMES[key]: value})
        remember_answer(ctx, physical_id, True)  # removed before Neutron answers

    def is_deleted(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> bool:
        router, key, value = self._parse(physical_id)
        try:
            cloud.conn.network.get_router(router)
        except os_exceptions.NotFoundException:
            return True
        return not self._present(cloud, router, key, value)


class RouterGateway:
    """A link: the router's external gateway; its physical id is ``<router id>:<network
    id>`` (Heat's). Found by its endpoints: the router's gateway is on that network."""

    def _ends(self, cloud: Cloud, props: Mapping[str, Any]) -> tuple[str, str]:
        router = cloud.router_id(props["router_id"])
        return router, cloud.network_id(props.get("network") or props["network_id"])

    @staticmethod
    def _gateway_network(router: Any) -> str | None:
        return (router.external_gateway_info or {}).get("network_id")

    def create(self, cloud: Cloud, ctx: StepContext, properties: Mapping[str, Any]) -> str:
        router, network = self._ends(cloud, properties)
        cloud.conn.network.update_router(router, external_gateway_info={"network_id": network})
        return f"{router}:{network}"

    def find(self, cloud: Cloud, ctx: StepContext) -> list[Found]:
        try:
            router, network = self._ends(cloud, ctx.properties)
            current = cloud.conn.network.get_router(router)
        except (KeyError, ProviderError, os_exceptions.NotFoundException):
            return []  # the router is gone: so is its gateway
        return [Found(f"{router}:{network}")] if self._gateway_network(current) == network else []

    def observe(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> Observed:
        router_id, _, network = physical_id.partition(":")
        with own("router", router_id):
            router = cloud.conn.network.get_router(router_id)
        now = self._gateway_network(router)
        if now == network:
            return Observed(ready=True, attributes={"show": show(router)})
        if now:
            raise ResourceFailedError(f"router {router_id} has its gateway on network {now}")
        raise ResourceGoneError(f"router {router_id} has no gateway")

    def delete(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> None:
        """Clears the gateway, if it is still this one (Heat clears whatever is there)."""
        router_id = physical_id.partition(":")[0]
        if not self.is_deleted(cloud, ctx, physical_id):
            cloud.conn.network.update_router(router_id, external_gateway_info={})

    def is_deleted(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> bool:
        router_id, _, network = physical_id.partition(":")
        try:
            router = cloud.conn.network.get_router(router_id)
        except os_exceptions.NotFoundException:
            return True
        return self._gateway_network(router) != network


HANDLERS: Mapping[str, Handler] = {
    "OS::Neutron::Net": Net(),
    "OS::Neutron::ProviderNet": ProviderNet(),
    "OS::Neutron::Subnet": Subnet(),
    "OS::Neutron::Router": Router(),
    "OS::Neutron::RouterInterface": RouterInterface(),
    "OS::Neutron::RouterGateway": RouterGateway(),
    "OS::Neutron::Port": Port(),
    "OS::Neutron::SecurityGroup": SecurityGroup(),
    "OS::Neutron::SecurityGroupRule": SecurityGroupRule(),
    "OS::Neutron::FloatingIP": FloatingIP(),
    "OS::Neutron::FloatingIPAssociation": FloatingIPAssociation(),
}
