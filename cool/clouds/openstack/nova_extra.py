"""More of Nova's types for the openstack provider: server groups, flavors, and
Heat's OS::Nova::FloatingIPAssociation.

None of them takes tags or metadata, so each carries the step's mark
(:func:`cool.clouds.openstack.identity.mark`) in what it has, set by the create
itself:

- a server group has only a name (Nova does not keep names unique): its name is
  the template's ``name`` (or the step's ``cloud_name``) followed by the mark in
  parentheses, and a step adopts only the group whose name ends with its own mark.
  A group named like another build's is never taken for it, nor deleted with it;
- a flavor's name is unique in the cloud and is the template's ``name`` (or the
  step's ``cloud_name``), as in Heat; its ``description`` (Nova API 2.55) carries
  the mark. A flavor of that name without the mark is someone else's: the create
  fails (Nova's 409) and the build's delete never touches it. Extra specs and the
  access of a private flavor are set by further calls, so ``observe`` converges
  them (a worker that died between the calls leaves them to the next one);
- a floating IP (OS::Nova::FloatingIP) is Neutron's, as in Heat: on the ``pool``
  network, or on the cloud's one external network; marked as Neutron's floating IPs
  are (:class:`cool.clouds.openstack.neutron.FloatingIP`);
- a floating IP association is a link found by its endpoints, the floating IP and
  the server (its physical id is ``<floating IP id>:<server id>``): as in Heat, the
  floating IP goes to the server's first port, through Neutron, and the step waits
  (``observe``) until the server has a port.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Mapping
from typing import Any

from openstack import exceptions as os_exceptions

from cool.clouds.base import (
    MAX_CLOUD_NAME,
    TAG_BUILD,
    TAG_RESOURCE,
    Found,
    Observed,
    ProviderError,
    ResourceExistsError,
    ResourceFailedError,
    StepContext,
)
from cool.clouds.openstack import identity
from cool.clouds.openstack.cloud import Cloud, Handler, given, own, show
from cool.clouds.openstack.neutron import FloatingIP as NeutronFloatingIP
from cool.clouds.openstack.neutron import _picked, _unreachable_is_transient

# -- OS::Nova::ServerGroup ---------------------------------------------------


def _group_suffix(ctx: StepContext) -> str:
    """`` (<mark>)``; with the resource name's digest when the mark would leave the
    group's name too little of Nova's 255 characters."""
    suffix = f" ({identity.mark(ctx)})"
    if len(suffix) > MAX_CLOUD_NAME // 2:
        digest = hashlib.sha256(ctx.resource_name.encode()).hexdigest()[:32]
        suffix = f" ({TAG_BUILD}={ctx.build_id},{TAG_RESOURCE}=sha256:{digest})"
    return suffix


def _group_name(ctx: StepContext, properties: Mapping[str, Any]) -> str:
    """``<name> (<mark>)``, the name cut so that the whole fits Nova's 255 characters."""
    name = str(properties.get("name") or ctx.cloud_name)
    suffix = _group_suffix(ctx)
    return name[: MAX_CLOUD_NAME - len(suffix)] + suffix


def _unmarked(ctx: StepContext, name: str) -> str:
    """The name without the step's mark: what the template named the group."""
    suffix = _group_suffix(ctx)
    return name[: -len(suffix)] if name.endswith(suffix) else name


class ServerGroup:
    def create(self, cloud: Cloud, ctx: StepContext, properties: Mapping[str, Any]) -> str:
        policies = list(properties.get("policies") or ["anti-affinity"])
        attrs: dict[str, Any] = {"name": _group_name(ctx, properties), "policy": policies[0]}
        if given(properties.get("rules")):
            rules = dict(properties["rules"])
            if "max_server_per_host" in rules:  # Nova takes an integer (Heat's is a Number)
                rules["max_server_per_host"] = int(rules["max_server_per_host"])
            attrs["rules"] = rules
        return str(cloud.conn.compute.create_server_group(**attrs).id)

    def find(self, cloud: Cloud, ctx: StepContext) -> list[Found]:
        groups = cloud.conn.compute.server_groups()
        suffix = _group_suffix(ctx)
        return identity.oldest_first(groups, keep=lambda g: str(g.name or "").endswith(suffix))

    def observe(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> Observed:
        with own("server group", physical_id):
            group = cloud.conn.compute.get_server_group(physical_id)
        policies = list(group.policies or ([group.policy] if group.policy else []))
        return Observed(
            ready=True,
            attributes={
                "name": _unmarked(ctx, str(group.name)),
                "policies": policies,
                "rules": dict(group.rules or {}),
                "members": list(group.member_ids or []),
                "show": show(group),
            },
        )

    def delete(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> None:
        cloud.conn.compute.delete_server_group(physical_id, ignore_missing=True)

    def is_deleted(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> bool:
        try:
            cloud.conn.compute.get_server_group(physical_id)
        except os_exceptions.NotFoundException:
            return True
        return False


# -- OS::Nova::Flavor --------------------------------------------------------

_FLAVOR_DEFAULTS = {  # Heat's defaults (Nova requires disk)
    "disk": 0,
    "swap": 0,
    "ephemeral": 0,
    "rxtx_factor": 1.0,
    "is_public": True,
}


def _flavor_description(ctx: StepContext, properties: Mapping[str, Any]) -> str:
    text = properties.get("description")
    return f"{text} ({identity.mark(ctx)})" if given(text) else identity.mark(ctx)


class Flavor:
    def create(self, cloud: Cloud, ctx: StepContext, properties: Mapping[str, Any]) -> str:
        name = str(properties.get("name") or ctx.cloud_name)
        attrs: dict[str, Any] = {
            "name": name,
            "description": _flavor_description(ctx, properties),
            "ram": properties["ram"],
            "vcpus": properties["vcpus"],
            **{key: properties.get(key, default) for key, default in _FLAVOR_DEFAULTS.items()},
        }
        if given(properties.get("flavorid")):
            attrs["id"] = str(properties["flavorid"])
        try:
            flavor = cloud.conn.compute.create_flavor(**attrs)
        except os_exceptions.ConflictException as exc:
            raise ResourceExistsError(
                f"a flavor named {name!r} (or with that flavorid) already exists"
            ) from exc
        return str(flavor.id)

    def find(self, cloud: Cloud, ctx: StepContext) -> list[Found]:
        name = str(ctx.properties.get("name") or ctx.cloud_name)
        flavors = cloud.conn.compute.flavors(is_public=None)  # private ones too (admins)
        return identity.oldest_first(
            flavors, keep=lambda f: f.name == name and identity.marked(ctx, f.description)
        )

    def observe(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> Observed:
        with own("flavor", physical_id):
            flavor = cloud.conn.compute.get_flavor(physical_id)
        if ctx.external_id is None:  # an adopted flavor (external_id) is only read
            flavor = self._converge(cloud, ctx, flavor)
        return Observed(
            ready=True,
            attributes={
                "is_public": bool(flavor.is_public),
                "extra_specs": dict(flavor.extra_specs or {}),
                "show": show(flavor),
            },
        )

    @staticmethod
    def _converge(cloud: Cloud, ctx: StepContext, flavor: Any) -> Any:
        """Extra specs and a private flavor's access, as the template says (idempotent)."""
        wanted = {str(k): str(v) for k, v in dict(ctx.properties.get("extra_specs") or {}).items()}
        have = dict(flavor.extra_specs or {})
        if any(have.get(k) != v for k, v in wanted.items()):
            cloud.conn.compute.create_flavor_extra_specs(flavor, wanted)
            flavor = cloud.conn.compute.get_flavor(flavor.id)
        if not flavor.is_public:
            tenants = ctx.properties.get("tenants") or [ctx.project_id]
            granted = {a["tenant_id"] for a in cloud.conn.compute.get_flavor_access(flavor)}
            for project in (_project_id(cloud, t) for t in tenants):
                if project not in granted:
                    cloud.conn.compute.flavor_add_tenant_access(flavor, project)
        return flavor

    def delete(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> None:
        cloud.conn.compute.delete_flavor(physical_id, ignore_missing=True)

    def is_deleted(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> bool:
        try:
            cloud.conn.compute.get_flavor(physical_id)
        except os_exceptions.NotFoundException:
            return True
        return False


def _project_id(cloud: Cloud, ref: Any) -> str:
    """A project named or identified (Heat's keystone.project); as given when Keystone
    does not say (Nova then checks the id itself)."""
    try:
        project = cloud.conn.identity.find_project(str(ref), ignore_missing=True)
    except os_exceptions.HttpException:
        return str(ref)
    return str(project.id) if project is not None else str(ref)


# -- OS::Nova::FloatingIP ----------------------------------------------------


class FloatingIP(NeutronFloatingIP):
    """Heat's Nova floating IP: a Neutron floating IP on the ``pool`` network."""

    def _create_body(self, cloud: Cloud, ctx: StepContext, props: Mapping[str, Any]) -> dict:
        pool = props.get("pool")
        if given(pool):
            return {"floating_network_id": cloud.network_id(pool)}
        external = list(cloud.conn.network.networks(is_router_external=True))
        if len(external) != 1:  # Heat's words
            raise ProviderError(f"Expected 1 external network, found {len(external)}")
        return {"floating_network_id": str(external[0].id)}

    def _attributes(self, cloud: Cloud, resource: Any) -> dict[str, Any]:
        shown = _picked(resource, ("floating_network_id", "floating_ip_address"))
        return {
            "pool": shown["floating_network_id"],
            "ip": shown["floating_ip_address"],
            "show": shown["show"],
        }


# -- OS::Nova::FloatingIPAssociation -----------------------------------------


def _first_ipv4(port: Any) -> str | None:
    for fixed in port.fixed_ips or ():
        address = fixed.get("ip_address")
        if address and ipaddress.ip_address(address).version == 4:
            return str(address)
    return None


class FloatingIPAssociation:
    """A link: its physical id is ``<floating IP id>:<server id>``."""

    @staticmethod
    def _ends(cloud: Cloud, props: Mapping[str, Any]) -> tuple[str, str]:
        ref = props["server_id"]
        try:
            server = cloud.conn.compute.find_server(str(ref), ignore_missing=False)
        except os_exceptions.ResourceNotFound as exc:
            raise ProviderError(f"server {ref!r} not found") from exc
        return str(props["floating_ip"]), str(server.id)

    @staticmethod
    def _ports(cloud: Cloud, server_id: str) -> list[Any]:
        """The server's ports, in Nova's interface order (Heat's "first" is Nova's first
        interface, ``interface_list()[0]``; Neutron lists ports in its own order)."""
        ports = {str(p.id): p for p in cloud.conn.network.ports(device_id=server_id)}
        order = [str(i.port_id) for i in cloud.conn.compute.server_interfaces(server_id)]
        return [ports[i] for i in order if i in ports] + [
            p for i, p in ports.items() if i not in order
        ]

    def _associate(self, cloud: Cloud, ctx: StepContext, fip_id: str, server_id: str) -> bool:
        """The floating IP to the server's first port; False if the server has none yet."""
        ports = self._ports(cloud, server_id)
        if not ports:
            return False
        attrs: dict[str, Any] = {"port_id": ports[0].id}
        address = _first_ipv4(ports[0])
        if address:
            attrs["fixed_ip_address"] = address
        _unreachable_is_transient(
            lambda: cloud.conn.network.update_ip(fip_id, **attrs),
            f"create {ctx.resource_name} (OS::Nova::FloatingIPAssociation)",
        )
        return True

    def create(self, cloud: Cloud, ctx: StepContext, properties: Mapping[str, Any]) -> str:
        fip_id, server_id = self._ends(cloud, properties)
        self._associate(cloud, ctx, fip_id, server_id)  # else observe does, once a port is
        return f"{fip_id}:{server_id}"

    def find(self, cloud: Cloud, ctx: StepContext) -> list[Found]:
        props = ctx.properties
        if not (given(props.get("floating_ip")) and given(props.get("server_id"))):
            return []
        try:
            fip_id, server_id = self._ends(cloud, props)
            fip = cloud.conn.network.get_ip(fip_id)
        except (ProviderError, os_exceptions.NotFoundException):
            return []  # what it would link is gone: so is the link
        ports = {p.id for p in self._ports(cloud, server_id)}
        return [Found(f"{fip_id}:{server_id}")] if fip.port_id in ports else []

    def observe(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> Observed:
        fip_id, server_id = physical_id.split(":", 1)
        with own("floating IP", fip_id):
            fip = cloud.conn.network.get_ip(fip_id)
        with own("server", server_id):
            cloud.conn.compute.get_server(server_id)
        ports = {p.id for p in self._ports(cloud, server_id)}
        if fip.port_id in ports:
            return Observed(ready=True, attributes={"show": show(fip)})
        if fip.port_id:
            raise ResourceFailedError(
                f"floating IP {fip_id} is associated with port {fip.port_id}, not with "
                f"server {server_id}"
            )
        if ctx.external_id is None:
            self._associate(cloud, ctx, fip_id, server_id)  # the server has a port now?
        return Observed(ready=False)

    def _current(self, cloud: Cloud, physical_id: str) -> tuple[str, Any, set[str]]:
        fip_id, server_id = physical_id.split(":", 1)
        try:
            fip = cloud.conn.network.get_ip(fip_id)
        except os_exceptions.NotFoundException:
            return fip_id, None, set()
        return fip_id, fip, {p.id for p in self._ports(cloud, server_id)}

    def delete(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> None:
        """Disassociate, only from this server (as Heat; a moved floating IP is left)."""
        fip_id, fip, ports = self._current(cloud, physical_id)
        if fip is not None and fip.port_id in ports:
            cloud.conn.network.update_ip(fip_id, port_id=None)

    def is_deleted(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> bool:
        _, fip, ports = self._current(cloud, physical_id)
        return fip is None or fip.port_id not in ports


HANDLERS: Mapping[str, Handler] = {
    "OS::Nova::ServerGroup": ServerGroup(),
    "OS::Nova::Flavor": Flavor(),
    "OS::Nova::FloatingIP": FloatingIP(),
    "OS::Nova::FloatingIPAssociation": FloatingIPAssociation(),
}
