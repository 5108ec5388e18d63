"""What the SIMULATED cloud (:mod:`cool.clouds.sim.provider`) makes up for Octavia's types.

Every value is invented, to be *plausible* and *consistent* with the attributes
:mod:`cool.resources.octavia` declares. A load balancer's VIP is an address of its
subnet (a sim row's range, or the pretended 10.254.0.0/16), claimed like a port's;
its VIP port id is derived from its own id. Objects hang under what they belong to
(a listener under its load balancer, a pool under its listener or load balancer, a
member and a health monitor under their pool), and the lists a real Octavia shows
(a load balancer's pools, a pool's members and monitor) follow those rows when
observed. References by name (a pool named ``web``) are things the sim pretends exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cool.clouds.sim import addresses as sim_addresses
from cool.clouds.sim.inventory import Birth, Inventory, Made, Maker, Observer

LOAD_BALANCER = "OS::Octavia::LoadBalancer"
LISTENER = "OS::Octavia::Listener"
POOL = "OS::Octavia::Pool"
POOL_MEMBER = "OS::Octavia::PoolMember"
HEALTH_MONITOR = "OS::Octavia::HealthMonitor"


def _common(birth: Birth) -> dict[str, Any]:
    return {
        "name": birth.name,
        "description": birth.prop("description", default=""),
        "admin_state_up": birth.prop("admin_state_up", default=True),
        "project_id": birth.prop("tenant_id", default=birth.project_id),
        "provisioning_status": "PENDING_CREATE",
        "operating_status": "OFFLINE",
    }


def _load_balancer(birth: Birth, inventory: Inventory) -> Made:
    subnet = sim_addresses.subnet(inventory, birth.required("vip_subnet"))
    vip = sim_addresses.address(inventory, subnet, birth.physical_id, birth.prop("vip_address"))
    return {
        **_common(birth),
        "vip_address": vip,
        "vip_port_id": birth.derived_id("vip-port"),
        "vip_subnet_id": subnet["id"],
        "vip_network_id": subnet.get("network_id"),
        "provider": birth.prop("provider", default="amphora"),
        "flavor_id": birth.prop("flavor"),
        "availability_zone": birth.prop("availability_zone"),
        "listeners": [],
        "pools": [],
    }, None


def _listener(birth: Birth, inventory: Inventory) -> Made:
    lb = birth.required("loadbalancer")
    inventory.get(lb, LOAD_BALANCER)
    return {
        **_common(birth),
        "protocol": birth.required("protocol"),
        "protocol_port": birth.required("protocol_port"),
        "connection_limit": birth.prop("connection_limit", default=-1),
        "default_tls_container_ref": birth.prop("default_tls_container_ref"),
        "sni_container_refs": list(birth.prop("sni_container_refs", default=[])),
        "allowed_cidrs": birth.prop("allowed_cidrs"),
        "loadbalancers": [{"id": lb}],
        "default_pool_id": birth.prop("default_pool"),
    }, lb


def _pool(birth: Birth, inventory: Inventory) -> Made:
    listener = birth.prop("listener")
    if listener is not None:
        inventory.get(listener, LISTENER)
    else:
        inventory.get(birth.required("listener", "loadbalancer"), LOAD_BALANCER)
    persistence = birth.prop("session_persistence")
    return {
        **_common(birth),
        "protocol": birth.required("protocol"),
        "lb_algorithm": birth.required("lb_algorithm"),
        "session_persistence": dict(persistence) if persistence else None,
        "tls_enabled": birth.prop("tls_enabled", default=False),
        "listeners": [{"id": listener}] if listener else [],
        "loadbalancers": [] if listener else [{"id": birth.prop("loadbalancer")}],
        "healthmonitor_id": None,
        "members": [],
    }, str(listener or birth.prop("loadbalancer"))


def _pool_member(birth: Birth, inventory: Inventory) -> Made:
    pool = birth.required("pool")
    inventory.get(pool, POOL)
    return {
        **_common(birth),
        "pool_id": pool,
        "address": birth.required("address"),
        "protocol_port": birth.required("protocol_port"),
        "weight": birth.prop("weight", default=1),
        "subnet_id": birth.prop("subnet"),
        "monitor_address": birth.prop("monitor_address"),
        "monitor_port": birth.prop("monitor_port"),
        "tags": list(birth.prop("tags", default=[])),
    }, pool


def _health_monitor(birth: Birth, inventory: Inventory) -> Made:
    pool = birth.required("pool")
    inventory.get(pool, POOL)
    kind = birth.required("type")
    http = kind in ("HTTP", "HTTPS")
    return {
        **_common(birth),
        "type": kind,
        "delay": birth.required("delay"),
        "timeout": birth.required("timeout"),
        "max_retries": birth.required("max_retries"),
        "http_method": birth.prop("http_method", default="GET" if http else None),
        "url_path": birth.prop("url_path", default="/" if http else None),
        "expected_codes": birth.prop("expected_codes", default="200" if http else None),
        "pools": [{"id": pool}],
    }, pool


def _status(status: str) -> dict[str, Any]:
    """Octavia's statuses for the sim's: ACTIVE/ONLINE once built."""
    provisioning = {"ACTIVE": "ACTIVE", "ERROR": "ERROR", "DELETING": "PENDING_DELETE"}
    return {
        "provisioning_status": provisioning.get(status, "PENDING_CREATE"),
        "operating_status": "ONLINE" if status == "ACTIVE" else "OFFLINE",
    }


def _ids(rows: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [{"id": row["id"]} for row in rows]


def _load_balancer_now(
    attributes: Mapping[str, Any], status: str, inventory: Inventory
) -> dict[str, Any]:
    listeners = inventory.children(attributes["id"], LISTENER)
    pools = inventory.children(attributes["id"], POOL)
    for listener in listeners:
        pools += inventory.children(listener["id"], POOL)
    return {**_status(status), "listeners": _ids(listeners), "pools": _ids(pools)}


def _pool_now(attributes: Mapping[str, Any], status: str, inventory: Inventory) -> dict[str, Any]:
    monitors = inventory.children(attributes["id"], HEALTH_MONITOR)
    return {
        **_status(status),
        "members": _ids(inventory.children(attributes["id"], POOL_MEMBER)),
        "healthmonitor_id": monitors[0]["id"] if monitors else None,
    }


def _status_now(_attributes: Mapping[str, Any], status: str, _inv: Inventory) -> dict[str, Any]:
    return _status(status)


MAKERS: Mapping[str, Maker] = {
    LOAD_BALANCER: _load_balancer,
    LISTENER: _listener,
    POOL: _pool,
    POOL_MEMBER: _pool_member,
    HEALTH_MONITOR: _health_monitor,
}
OBSERVERS: Mapping[str, Observer] = {
    LOAD_BALANCER: _load_balancer_now,
    LISTENER: _status_now,
    POOL: _pool_now,
    POOL_MEMBER: _status_now,
    HEALTH_MONITOR: _status_now,
}
