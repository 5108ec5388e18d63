"""How the SIMULATED cloud (:mod:`cool.clouds.sim.provider`) makes up a resource's attributes,
and what ``get_resource`` gives for it.

This is a simulation, not a cloud: every value is invented, to be
*plausible* and *consistent* with the attributes the resource types declare
(:mod:`cool.resources`), so templates that read them (``get_attr``) build the
same way on the sim as on OpenStack. The rules:

- Derived ids (a server's implicit ports, security group rules) are uuid5s of
  the resource's own id: the same row always shows the same ids.
- What a real cloud keeps unique stays unique across every worker on the host:
  IP addresses and MACs (:mod:`cool.clouds.sim.addresses`), key pair names in
  a project (:mod:`cool.clouds.sim.nova`), drawn from the shared
  :class:`~cool.clouds.sim.inventory.Inventory` inside the create's transaction.
- A reference that is the id of a sim row uses that row; one that is not (a
  network named ``public``, an image name, a key pair's name) is a thing the
  sim pretends the cloud already has.

Attributes that change after create (a network's subnets, a volume's
attachments, a floating IP's association) are computed when observed
(:func:`current`), from the rows that name this one as their parent. Each
type's rules live with its service: :mod:`cool.clouds.sim.neutron`,
:mod:`cool.clouds.sim.nova`, :mod:`cool.clouds.sim.cinder`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cool.clouds.base import ProviderError
from cool.clouds.sim import aws as aws_types
from cool.clouds.sim import cinder, neutron, neutron_qos, neutron_trunk, nova, octavia
from cool.clouds.sim import cinder_types as cinder_volume_types
from cool.clouds.sim import keystone as keystone_types
from cool.clouds.sim import nova_aggregates as nova_aggregate_types
from cool.clouds.sim.inventory import (
    NETWORKS,
    ROUTER,
    SERVER,
    Birth,
    Inventory,
    Made,
    kind_of,
)

_MAKERS = {**neutron.MAKERS, **neutron_qos.MAKERS, **nova.MAKERS, **cinder.MAKERS, **octavia.MAKERS}
_MAKERS.update(aws_types.MAKERS)
_MAKERS.update(neutron_trunk.MAKERS)
_MAKERS.update(keystone_types.MAKERS)
_MAKERS.update(cinder_volume_types.MAKERS)
_MAKERS.update(nova_aggregate_types.MAKERS)
_OBSERVERS = {
    **neutron.OBSERVERS,
    **neutron_qos.OBSERVERS,
    **nova.OBSERVERS,
    **cinder.OBSERVERS,
    **octavia.OBSERVERS,
}
_REFERENCES = {**neutron.REFERENCES, **nova.REFERENCES, **aws_types.REFERENCES}
_REFERENCES.update(keystone_types.REFERENCES)
_REFERENCES.update(cinder_volume_types.REFERENCES)
# their "status" is the sim's, as it is
_SHOWS_STATUS = frozenset({*NETWORKS, ROUTER, SERVER, aws_types.INSTANCE})

TYPES = frozenset(_MAKERS)


def synthesize(birth: Birth, inventory: Inventory) -> Made:
    """The attributes of a new resource, and the id of the row it hangs under (if any)."""
    try:
        attributes, parent_id = _MAKERS[birth.resource_type](birth, inventory)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:  # what a cloud refuses
        kind = kind_of(birth.resource_type)
        raise ProviderError(f"{kind}: bad request: {exc!r} (simulated 400)") from exc
    return {"id": birth.physical_id, **attributes}, parent_id


def current(
    resource_type: str, attributes: Mapping[str, Any], status: str, inventory: Inventory
) -> dict[str, Any]:
    """The attributes as observed now: stored ones, plus those that follow other rows."""
    out = dict(attributes)
    status = str(status)
    if resource_type in _SHOWS_STATUS:
        out["status"] = status
    observer = _OBSERVERS.get(resource_type)
    if observer is not None:
        out.update(observer(out, status, inventory))
    out["show"] = {k: v for k, v in out.items() if k != "show"}
    return out


def reference(
    resource_type: str, properties: Mapping[str, Any], attributes: Mapping[str, Any]
) -> str | None:
    """What ``get_resource`` gives, as Heat's ``get_reference_id``; None: the physical id."""
    make = _REFERENCES.get(resource_type)
    return None if make is None else make(properties, attributes)
