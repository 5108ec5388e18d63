"""What the SIMULATED cloud (:mod:`cool.clouds.sim.provider`) makes up for
OS::Nova::HostAggregate (:mod:`cool.resources.nova_aggregates`).

An aggregate's name is unique in the cloud, as in Nova (a second is a simulated 409),
and its hosts are the sim's compute hosts (:data:`cool.clouds.sim.nova.HOSTS`): any
other host is Nova's "Compute host ... could not be found", simulated. The sim has no
roles, so Nova's admin-only default is not simulated.
"""

from __future__ import annotations

from collections.abc import Mapping

from cool.clouds.base import ProviderError, ResourceExistsError
from cool.clouds.sim.inventory import Birth, Inventory, Made, Maker
from cool.clouds.sim.nova import HOSTS

HOST_AGGREGATE = "OS::Nova::HostAggregate"
SIM_HOSTS = frozenset(f"sim-compute-{i}" for i in range(HOSTS))


def _host_aggregate(birth: Birth, inventory: Inventory) -> Made:
    taken = inventory.conn.execute(
        "SELECT 1 FROM resources WHERE type = ? AND deleted_at IS NULL AND name = ?",
        (HOST_AGGREGATE, birth.name),
    ).fetchone()
    if taken is not None:
        raise ResourceExistsError(f"Aggregate {birth.name} already exists (simulated 409 Conflict)")
    hosts = [str(h) for h in birth.prop("hosts", default=[])]
    for host in hosts:
        if host not in SIM_HOSTS:
            raise ProviderError(f"Compute host {host} could not be found (simulated 404)")
    zone = birth.prop("availability_zone")
    metadata = {str(k): str(v) for k, v in birth.prop("metadata", default={}).items()}
    return {
        "name": birth.name,
        "availability_zone": zone,
        "hosts": list(dict.fromkeys(hosts)),
        "metadata": {**metadata, **({"availability_zone": zone} if zone else {})},
    }, None


MAKERS: Mapping[str, Maker] = {HOST_AGGREGATE: _host_aggregate}
