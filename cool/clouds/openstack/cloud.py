"""What each resource type's handler gets from the openstack provider, and owes it.

A handler (one per resource type, in :mod:`cool.clouds.openstack.neutron`,
:mod:`~cool.clouds.openstack.nova` and :mod:`~cool.clouds.openstack.cinder`)
speaks openstacksdk; the provider (:mod:`cool.clouds.openstack.provider`) gives it a
:class:`Cloud` and turns whatever it raises into cool's errors.
"""

from __future__ import annotations

import collections
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from openstack import exceptions as os_exceptions
from openstack.connection import Connection

from cool.clouds.base import Found, Observed, ProviderError, ResourceGoneError, StepContext

ACTIVE_OR_DOWN = frozenset({"ACTIVE", "DOWN"})  # Neutron's "built", as Heat reads it
_UUID = re.compile(r"^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$", re.I)


def given(value: Any) -> bool:
    """Set in the template: not absent, null or empty."""
    if value is None:
        return False
    return not (isinstance(value, str | list | dict) and len(value) == 0)


def body(properties: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, Any]:
    """The given properties among ``names`` (template name -> API name)."""
    return {api: properties[name] for name, api in names.items() if given(properties.get(name))}


def show(resource: Any) -> dict[str, Any]:
    """A resource as its API shows it (Heat's ``show`` attribute), JSON-ready."""
    shown = resource.to_dict(computed=False, original_names=True)
    shown.pop("location", None)
    return {k: v for k, v in shown.items() if v is not None}


# The type a reference to an id this build made must have, by the noun a look-up says.
_MADE_TYPES: Mapping[str, str] = {
    "network": "OS::Neutron::Net",
    "subnet": "OS::Neutron::Subnet",
    "port": "OS::Neutron::Port",
    "router": "OS::Neutron::Router",
    "security group": "OS::Neutron::SecurityGroup",
}


@dataclass(frozen=True, slots=True)
class Cloud:
    """One authority in one cloud: the openstacksdk connection, and lookups by name or id.

    ``made`` (:attr:`StepContext.made`): ids the step's build made, by type. A
    reference to one of the right type is an id that exists, so ``*_id`` returns it
    without a GET (a network, its subnet and a security group cost a port 3 GETs
    before its create); if it has gone since, the create's 404 says so.
    """

    conn: Connection
    made: Mapping[str, str] = field(default_factory=dict)
    # [openstack] neutron_tags: cool's tags on Neutron resources whose create takes none
    neutron_tags: bool = False

    def step(self, made: Mapping[str, str]) -> Cloud:
        return self if not made else replace(self, made=made)

    def _find(
        self, finder: Any, kind: str, ref: Any, *, listing: Any = None, **filters: Any
    ) -> Any:
        """By id or name, as openstacksdk's ``find_*``. With ``listing`` (a type whose
        ids are UUIDs: Neutron's, Glance's), a name is listed by name at once instead
        of first being tried as an id (a GET that can only answer 404)."""
        if listing is not None and not _UUID.match(str(ref)):
            found = self._by_name(listing, kind, str(ref), **filters)
            if found is not None:
                return found
            # none of that name listed: openstacksdk's own look (hidden images...) says
        try:
            return finder(str(ref), ignore_missing=False, **filters)
        except os_exceptions.ResourceNotFound as exc:
            # Not ResourceGoneError: what is missing is what the template names.
            raise ProviderError(f"{kind} {ref!r} not found") from exc
        except os_exceptions.DuplicateResource as exc:
            raise ProviderError(f"{kind} {ref!r} is ambiguous: give its id") from exc

    def _id(self, kind: str, finder: Any, listing: Any, ref: Any, **filters: Any) -> str:
        if isinstance(ref, str) and self.made.get(ref) == _MADE_TYPES[kind]:
            return ref
        return str(self._find(finder, kind, ref, listing=listing, **filters).id)

    @staticmethod
    def _by_name(listing: Any, kind: str, name: str, **filters: Any) -> Any:
        found = [r for r in listing(name=name, **filters) if r.name == name]
        if len(found) > 1:
            raise ProviderError(f"{kind} {name!r} is ambiguous: give its id")
        return found[0] if found else None

    def network(self, ref: Any) -> Any:
        network = self.conn.network
        return self._find(network.find_network, "network", ref, listing=network.networks)

    def network_id(self, ref: Any) -> str:
        network = self.conn.network
        return self._id("network", network.find_network, network.networks, ref)

    def subnet_id(self, ref: Any) -> str:
        network = self.conn.network
        return self._id("subnet", network.find_subnet, network.subnets, ref)

    def port_id(self, ref: Any) -> str:
        network = self.conn.network
        return self._id("port", network.find_port, network.ports, ref)

    def router_id(self, ref: Any) -> str:
        network = self.conn.network
        return self._id("router", network.find_router, network.routers, ref)

    def security_group_ids(self, refs: Iterable[Any]) -> list[str]:
        network, project = self.conn.network, self.conn.current_project_id
        finder, listing = network.find_security_group, network.security_groups
        return [
            self._id("security group", finder, listing, ref, project_id=project) for ref in refs
        ]

    def image_id(self, ref: Any) -> str:
        image = self.conn.image
        return str(self._find(image.find_image, "image", ref, listing=image.images).id)

    def flavor_id(self, ref: Any) -> str:
        return str(self._find(self.conn.compute.find_flavor, "flavor", ref).id)


@contextmanager
def own(kind: str, physical_id: str) -> Iterator[None]:
    """Around a GET of the step's own resource: there, and only there, a 404 means the
    resource is gone (ResourceGoneError: the step makes it again). Elsewhere a 404 is
    about something else (a subnet, a network the template names) and is a failure."""
    try:
        yield
    except os_exceptions.NotFoundException as exc:
        raise ResourceGoneError(f"{kind} {physical_id} does not exist (any more)") from exc


_ANSWERS_KEPT = 16  # per thread: a step's calls run one after another on its thread
_answers = threading.local()


def _answer_key(ctx: StepContext, physical_id: str) -> tuple[str, str, int, str]:
    return (ctx.build_id, ctx.resource_name, ctx.epoch, physical_id)


def remember_answer(ctx: StepContext, physical_id: str, answer: Observed | bool) -> None:
    """What a call just learnt of the step's own resource, for the step's next look to
    read instead of asking again: a create's reply that shows the resource ready (an
    Observed), or a delete the cloud does before it answers (True: gone). Read once,
    by the same thread with the same step context (the worker's step passes one to its
    create and its looks; a takeover makes its own), by :func:`recall_answer`; any
    other look (a later poll, a takeover's) asks the cloud."""
    kept = getattr(_answers, "kept", None)
    if kept is None:
        kept = _answers.kept = collections.OrderedDict()
    kept[_answer_key(ctx, physical_id)] = (ctx, answer)
    while len(kept) > _ANSWERS_KEPT:
        kept.popitem(last=False)


def recall_answer(ctx: StepContext, physical_id: str) -> Observed | bool | None:
    kept = getattr(_answers, "kept", None)
    entry = None if kept is None else kept.pop(_answer_key(ctx, physical_id), None)
    return entry[1] if entry is not None and entry[0] is ctx else None


def forget_answers() -> None:
    """Before a create: nothing learnt before it stands for after it."""
    kept = getattr(_answers, "kept", None)
    if kept is not None:
        kept.clear()


class Handler(Protocol):
    """One resource type in openstacksdk terms; the provider's protocol, per type."""

    def create(self, cloud: Cloud, ctx: StepContext, properties: Mapping[str, Any]) -> str: ...

    def find(self, cloud: Cloud, ctx: StepContext) -> list[Found]: ...

    def observe(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> Observed: ...

    def delete(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> None: ...

    def is_deleted(self, cloud: Cloud, ctx: StepContext, physical_id: str) -> bool: ...
