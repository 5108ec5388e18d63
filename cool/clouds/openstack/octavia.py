"""Octavia's types for the openstack provider: load balancers, listeners, pools, pool
members and health monitors.

Marks: every Octavia object takes ``tags`` in its create (API 2.5+), so each carries
``cool-build=<id>`` and ``cool-resource=<name>`` from the start; ``find`` lists by the
build's tag and keeps the exact resource tag. Names are the template's, or the step's
deterministic name, as Heat names them.

Readiness is Octavia's ``provisioning_status``, as Heat reads it: ACTIVE is ready,
ERROR failed, PENDING_* not yet. While a load balancer is PENDING_*, Octavia refuses
changes to it and to everything under it with a 409 ("immutable"): a retry, never a
failure. Octavia's other 409s (a port already in use, a pool that has a monitor) are
failures with Octavia's words. A pool member lives under its pool: its physical id is
``<pool id>:<member id>`` and ``get_resource`` gives the member's id, as in Heat.
A load balancer's delete cascades (Octavia deletes what is still under it).
"""

from __future__ import annotations

import hashlib
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from openstack import exceptions as os_exceptions

from cool.clouds.base import (
    TAG_BUILD,
    TAG_RESOURCE,
    Found,
    Observed,
    ProviderError,
    ResourceBusyError,
    ResourceFailedError,
    ResourceGoneError,
    StepContext,
)
from cool.clouds.openstack import identity
from cool.clouds.openstack.cloud import Cloud, Handler, body, given, own, show
from cool.clouds.openstack.errors import cloud_message

_TAG_MAX = 255  # Octavia's tags are strings of at most 255 characters
_GONE = frozenset({"DELETED", "PENDING_DELETE"})
# Octavia's 409s that mean "busy now" (ImmutableObject, LBPendingStateError)
_BUSY_HINTS = ("immutable", "invalid state")


def tags(ctx: StepContext) -> list[str]:
    """The step's marks as Octavia tags (a resource name too long for one, by digest)."""
    resource = f"{TAG_RESOURCE}={ctx.resource_name}"
    if len(resource) > _TAG_MAX:
        resource = f"{TAG_RESOURCE}=sha256:{hashlib.sha256(ctx.resource_name.encode()).hexdigest()}"
    return [f"{TAG_BUILD}={ctx.build_id}", resource]


def _carries(ctx: StepContext, resource: Any) -> bool:
    return set(tags(ctx)) <= set(resource.tags or ())


@contextmanager
def conflicts(doing: str, cloud: Cloud | None = None) -> Iterator[None]:
    """Octavia's 409s: busy (PENDING_*) is retryable, anything else is a failure. Octavia
    says "immutable" of a load balancer in ERROR too (only ACTIVE is mutable): when the
    one it names is in ERROR, no wait helps, so that is a failure that says so."""
    try:
        yield
    except os_exceptions.ConflictException as exc:
        message = cloud_message(exc)
        if any(hint in message.lower() for hint in _BUSY_HINTS):
            broken = _in_error(cloud, message)
            if broken is not None:
                raise ProviderError(
                    f"{doing}: load balancer {broken} is in ERROR: {message} (HTTP 409)"
                ) from exc
            raise ResourceBusyError(f"{doing}: {message} (HTTP 409)") from exc
        raise ProviderError(f"{doing}: {message} (HTTP 409)") from exc


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _in_error(cloud: Cloud | None, message: str) -> str | None:
    """The load balancer an "immutable" 409 names, if it is in ERROR (None: busy, or
    nothing to tell)."""
    if cloud is None:
        return None
    for candidate in _UUID.findall(message.lower()):
        try:
            balancer = cloud.conn.load_balancer.get_load_balancer(candidate)
        except os_exceptions.SDKException:
            continue
        if balancer.provisioning_status == "ERROR":
            return candidate
    return None


def _lookup(finder: Callable[..., Any], kind: str, ref: Any) -> str:
    """The id of the object a property names (by name or id)."""
    try:
        return str(finder(str(ref), ignore_missing=False).id)
    except os_exceptions.ResourceNotFound as exc:
        raise ProviderError(f"{kind} {ref!r} not found") from exc
    except os_exceptions.DuplicateResource as exc:
        raise ProviderError(f"{kind} {ref!r} is ambiguous: give its id") from exc


def _observe(kind: str, resource: Any, attributes: Iterable[str]) -> Observed:
    status = resource.provisioning_status
    if status == "ERROR":
        return Observed(
            ready=False,
            failed=f"{kind} {resource.id} went to provisioning status ERROR "
            f"(operating status {resource.operating_status})",
        )
    if status != "ACTIVE":
        return Observed(ready=False)
    shown = show(resource)
    return Observed(
        ready=True, attributes={**{name: shown.get(name) for name in attributes}, "show": shown}
    )


def _deleted(kind: str, physical_id: str, status: str, again: Callable[[], None]) -> bool:
    """Whether a delete is done, given the object's status now. As Heat: ERROR once the
    delete was accepted means it failed; ACTIVE means it was refused or undone: ``again``."""
    if status == "DELETED":
        return True
    if status == "ERROR":
        raise ResourceFailedError(
            f"{kind} {physical_id} went to provisioning status ERROR while being deleted"
        )
    if status == "ACTIVE":
        again()
    return False


class _Object(ABC):
    """An Octavia object of its own (not under another): create, find, poll, delete.
    Each type says how to call openstacksdk for it and what its create sends."""

    kind = ""
    attributes: tuple[str, ...] = ()  # Heat's attributes, read from the object's show

    @abstractmethod
    def _get(self, cloud: Cloud, physical_id: str) -> Any: ...

    @abstractmethod
    def _list(self, cloud: Cloud, **query: Any) -> Iterable[Any]: ...

    @abstractmethod
    def _create(self, cloud: Cloud, attrs: dict[str, Any]) -> Any: ...

    @abstractmethod
    def _delete(self, cloud: Cloud, physical_id: str) -> None: ...

    @abstractmethod
    def _attrs(
        self, cloud: Cloud, ctx: StepContext, props: Mapping[str, Any]
    ) -> dict[str, Any]: ...

    def create(self, cloud: Cloud, ctx: StepContext, properties: Mapping[str, Any]) -> str:
        attrs = {
            "name": properties.get("name") or ctx.cloud_name,
            **self._attrs(cloud, ctx, properties),
            "tags": [*list(properties.get("tags") or ()), *tags(ctx)],
        }
        with conflicts(f"create {self.kind}", cloud):
            return str(self._create(cloud, attrs).id)

    def find(self, cloud: Cloud, ctx: StepContext) -> list[Found]:
        found = self._list(cloud, tags=tags(ctx)[0])
        return identity.oldest_first(
            found, keep=lambda r: _carries(ctx, r) and r.provisioning_status not in _GONE
        )

    def observe(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> Observed:
        with own(self.kind, physical_id):
            resource = self._get(cloud, physical_id)
        if resource.provisioning_status in _GONE:
            raise ResourceGoneError(f"{self.kind} {physical_id} is deleted")
        return _observe(self.kind, resource, self.attributes)

    def delete(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> None:
        with conflicts(f"delete {self.kind}", cloud):
            self._delete(cloud, physical_id)

    def is_deleted(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> bool:
        try:
            resource = self._get(cloud, physical_id)
        except os_exceptions.NotFoundException:
            return True
        return _deleted(
            self.kind,
            physical_id,
            resource.provisioning_status,
            lambda: self.delete(cloud, ctx, physical_id),
        )


class LoadBalancer(_Object):
    kind = "load balancer"
    attributes = ("vip_address", "vip_port_id", "vip_subnet_id", "pools", "flavor_id")

    def _get(self, cloud: Cloud, physical_id: str) -> Any:
        return cloud.conn.load_balancer.get_load_balancer(physical_id)

    def _list(self, cloud: Cloud, **query: Any) -> Iterable[Any]:
        return cloud.conn.load_balancer.load_balancers(**query)

    def _create(self, cloud: Cloud, attrs: dict[str, Any]) -> Any:
        return cloud.conn.load_balancer.create_load_balancer(**attrs)

    def _delete(self, cloud: Cloud, physical_id: str) -> None:
        cloud.conn.load_balancer.delete_load_balancer(
            physical_id, ignore_missing=True, cascade=True
        )

    def _attrs(self, cloud: Cloud, ctx: StepContext, props: Mapping[str, Any]) -> dict[str, Any]:
        attrs = body(
            props,
            {
                "description": "description",
                "provider": "provider",
                "vip_address": "vip_address",
                "availability_zone": "availability_zone",
                "tenant_id": "project_id",
            },
        )
        attrs["vip_subnet_id"] = cloud.subnet_id(props["vip_subnet"])
        attrs["admin_state_up"] = props.get("admin_state_up", True)
        if given(props.get("flavor")):
            finder = cloud.conn.load_balancer.find_flavor
            attrs["flavor_id"] = _lookup(finder, "load balancer flavor", props["flavor"])
        return attrs


class Listener(_Object):
    kind = "listener"
    attributes = ("loadbalancers", "default_pool_id")

    def _get(self, cloud: Cloud, physical_id: str) -> Any:
        return cloud.conn.load_balancer.get_listener(physical_id)

    def _list(self, cloud: Cloud, **query: Any) -> Iterable[Any]:
        return cloud.conn.load_balancer.listeners(**query)

    def _create(self, cloud: Cloud, attrs: dict[str, Any]) -> Any:
        return cloud.conn.load_balancer.create_listener(**attrs)

    def _delete(self, cloud: Cloud, physical_id: str) -> None:
        cloud.conn.load_balancer.delete_listener(physical_id, ignore_missing=True)

    def _attrs(self, cloud: Cloud, ctx: StepContext, props: Mapping[str, Any]) -> dict[str, Any]:
        lb = cloud.conn.load_balancer
        attrs = body(
            props,
            {
                "protocol": "protocol",
                "protocol_port": "protocol_port",
                "description": "description",
                "default_tls_container_ref": "default_tls_container_ref",
                "sni_container_refs": "sni_container_refs",
                "connection_limit": "connection_limit",
                "tenant_id": "project_id",
                "allowed_cidrs": "allowed_cidrs",
            },
        )
        attrs["admin_state_up"] = props.get("admin_state_up", True)
        attrs["loadbalancer_id"] = _lookup(
            lb.find_load_balancer, "load balancer", props["loadbalancer"]
        )
        if given(props.get("default_pool")):
            attrs["default_pool_id"] = _lookup(lb.find_pool, "pool", props["default_pool"])
        return attrs


class Pool(_Object):
    kind = "pool"
    attributes = ("healthmonitor_id", "listeners", "members")

    def _get(self, cloud: Cloud, physical_id: str) -> Any:
        return cloud.conn.load_balancer.get_pool(physical_id)

    def _list(self, cloud: Cloud, **query: Any) -> Iterable[Any]:
        return cloud.conn.load_balancer.pools(**query)

    def _create(self, cloud: Cloud, attrs: dict[str, Any]) -> Any:
        return cloud.conn.load_balancer.create_pool(**attrs)

    def _delete(self, cloud: Cloud, physical_id: str) -> None:
        cloud.conn.load_balancer.delete_pool(physical_id, ignore_missing=True)

    def _attrs(self, cloud: Cloud, ctx: StepContext, props: Mapping[str, Any]) -> dict[str, Any]:
        lb = cloud.conn.load_balancer
        attrs = body(
            props,
            {"description": "description", "lb_algorithm": "lb_algorithm", "protocol": "protocol"},
        )
        attrs["admin_state_up"] = props.get("admin_state_up", True)
        attrs["tls_enabled"] = bool(props.get("tls_enabled", False))
        if given(props.get("listener")):
            attrs["listener_id"] = _lookup(lb.find_listener, "listener", props["listener"])
        if given(props.get("loadbalancer")):
            attrs["loadbalancer_id"] = _lookup(
                lb.find_load_balancer, "load balancer", props["loadbalancer"]
            )
        persistence = props.get("session_persistence")
        if isinstance(persistence, Mapping):
            attrs["session_persistence"] = {k: v for k, v in persistence.items() if v is not None}
        return attrs


class HealthMonitor(_Object):
    kind = "health monitor"
    attributes = ("pools",)

    def _get(self, cloud: Cloud, physical_id: str) -> Any:
        return cloud.conn.load_balancer.get_health_monitor(physical_id)

    def _list(self, cloud: Cloud, **query: Any) -> Iterable[Any]:
        return cloud.conn.load_balancer.health_monitors(**query)

    def _create(self, cloud: Cloud, attrs: dict[str, Any]) -> Any:
        return cloud.conn.load_balancer.create_health_monitor(**attrs)

    def _delete(self, cloud: Cloud, physical_id: str) -> None:
        cloud.conn.load_balancer.delete_health_monitor(physical_id, ignore_missing=True)

    def _attrs(self, cloud: Cloud, ctx: StepContext, props: Mapping[str, Any]) -> dict[str, Any]:
        attrs = body(
            props,
            {
                "delay": "delay",
                "expected_codes": "expected_codes",
                "http_method": "http_method",
                "max_retries": "max_retries",
                "timeout": "timeout",
                "type": "type",
                "url_path": "url_path",
                "tenant_id": "project_id",
            },
        )
        attrs["admin_state_up"] = props.get("admin_state_up", True)
        attrs["pool_id"] = _lookup(cloud.conn.load_balancer.find_pool, "pool", props["pool"])
        return attrs


class PoolMember:
    """A member, under its pool: ``<pool id>:<member id>``."""

    kind = "pool member"

    @staticmethod
    def _ids(physical_id: str) -> tuple[str, str]:
        pool, _, member = physical_id.partition(":")
        return pool, member

    def create(self, cloud: Cloud, ctx: StepContext, properties: Mapping[str, Any]) -> str:
        lb = cloud.conn.load_balancer
        pool = _lookup(lb.find_pool, "pool", properties["pool"])
        attrs = body(
            properties,
            {
                "address": "address",
                "protocol_port": "protocol_port",
                "monitor_address": "monitor_address",
                "monitor_port": "monitor_port",
                "weight": "weight",
            },
        )
        attrs["name"] = ctx.cloud_name
        attrs["admin_state_up"] = properties.get("admin_state_up", True)
        if given(properties.get("subnet")):
            attrs["subnet_id"] = cloud.subnet_id(properties["subnet"])
        attrs["tags"] = [*list(properties.get("tags") or ()), *tags(ctx)]
        with conflicts(f"create {self.kind}", cloud):
            member = lb.create_member(pool, **attrs)
        return f"{pool}:{member.id}"

    def find(self, cloud: Cloud, ctx: StepContext) -> list[Found]:
        ref = ctx.properties.get("pool")
        if not given(ref):
            return []
        pool = cloud.conn.load_balancer.find_pool(str(ref), ignore_missing=True)
        if pool is None:
            return []
        members = cloud.conn.load_balancer.members(pool.id, tags=tags(ctx)[0])
        found = identity.oldest_first(
            members, keep=lambda m: _carries(ctx, m) and m.provisioning_status not in _GONE
        )
        return [Found(f"{pool.id}:{f.physical_id}", f.created_at) for f in found]

    def observe(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> Observed:
        pool, member_id = self._ids(physical_id)
        with own(self.kind, physical_id):
            member = cloud.conn.load_balancer.get_member(member_id, pool)
        observed = _observe(self.kind, member, ("address",))
        if not observed.ready:
            return observed
        return Observed(
            ready=True,
            attributes={**observed.attributes, "pool_id": pool},
            reference=member_id,
        )

    def delete(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> None:
        pool, member = self._ids(physical_id)
        with conflicts(f"delete {self.kind}", cloud):
            cloud.conn.load_balancer.delete_member(member, pool, ignore_missing=True)

    def is_deleted(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> bool:
        pool, member_id = self._ids(physical_id)
        try:
            member = cloud.conn.load_balancer.get_member(member_id, pool)
        except os_exceptions.NotFoundException:  # the member, or its whole pool
            return True
        return _deleted(
            self.kind,
            physical_id,
            member.provisioning_status,
            lambda: self.delete(cloud, ctx, physical_id),
        )


HANDLERS: Mapping[str, Handler] = {
    "OS::Octavia::LoadBalancer": LoadBalancer(),
    "OS::Octavia::Listener": Listener(),
    "OS::Octavia::Pool": Pool(),
    "OS::Octavia::PoolMember": PoolMember(),
    "OS::Octavia::HealthMonitor": HealthMonitor(),
}
