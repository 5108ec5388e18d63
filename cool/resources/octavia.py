"""Octavia's load balancer types (Heat's OS::Octavia::LoadBalancer, Listener, Pool,
PoolMember and HealthMonitor).

Property names, types, defaults, allowed values and cross-checks follow Heat's
(heat/engine/resources/openstack/octavia), so Heat templates validate unchanged;
so do the attributes (Heat reads each from the object's ``show``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cool.resources.checks import is_given
from cool.resources.schema import (
    COMMON_ATTRIBUTES,
    AllowedValues,
    Attribute,
    AttributeType,
    CustomConstraint,
    Property,
    PropertyProblem,
    PropertyType,
    Range,
    ResourceType,
    constraint,
    missing,
)

PROTOCOLS = ("TCP", "HTTP", "HTTPS", "TERMINATED_HTTPS", "PROXY", "UDP")
LB_ALGORITHMS = ("ROUND_ROBIN", "LEAST_CONNECTIONS", "SOURCE_IP", "SOURCE_IP_PORT")
SESSION_PERSISTENCE_TYPES = ("SOURCE_IP", "HTTP_COOKIE", "APP_COOKIE")
HEALTH_MONITOR_TYPES = ("PING", "TCP", "HTTP", "HTTPS", "UDP-CONNECT")
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "TRACE", "OPTIONS", "CONNECT", "PATCH")
_PORT = Range(min=1, max=65535)


def _string(description: str, *custom: str, **kwargs: Any) -> Property:
    """A String property; ``custom`` names Heat custom constraints (like "octavia.pool")."""
    constraints = (*kwargs.pop("constraints", ()), *(CustomConstraint(name) for name in custom))
    return Property(PropertyType.STRING, description, constraints=constraints, **kwargs)


def _admin_state_up(what: str) -> Property:
    return Property(
        PropertyType.BOOLEAN,
        f"The administrative state of the {what}.",
        default=True,
        update_allowed=True,
    )


def _description(what: str) -> Property:
    return _string(f"Description of this {what}.", default="", update_allowed=True)


def _check_listener(props: Mapping[str, Any]) -> list[PropertyProblem]:
    """As Heat: a TERMINATED_HTTPS listener needs its default TLS container."""
    if props.get("protocol") == "TERMINATED_HTTPS" and not is_given(
        props.get("default_tls_container_ref")
    ):
        return [
            missing(
                "default_tls_container_ref",
                "default_tls_container_ref is required when protocol is TERMINATED_HTTPS",
            )
        ]
    return []


def _check_pool(props: Mapping[str, Any]) -> list[PropertyProblem]:
    """As Heat: a pool belongs to a listener or a load balancer; APP_COOKIE persistence
    names its cookie, SOURCE_IP persistence names none."""
    problems = []
    if not is_given(props.get("listener")) and not is_given(props.get("loadbalancer")):
        problems.append(missing("listener", "one of listener or loadbalancer is required"))
    persistence = props.get("session_persistence")
    if isinstance(persistence, Mapping):
        kind, cookie = persistence.get("type"), persistence.get("cookie_name")
        if kind == "APP_COOKIE" and not is_given(cookie):
            problems.append(
                missing(
                    ("session_persistence", "cookie_name"),
                    "cookie_name is required when session_persistence type is APP_COOKIE",
                )
            )
        elif kind == "SOURCE_IP" and is_given(cookie):
            problems.append(
                constraint(
                    ("session_persistence", "cookie_name"),
                    "cookie_name must not be given when session_persistence type is SOURCE_IP",
                )
            )
    return problems


LOAD_BALANCER = ResourceType(
    name="OS::Octavia::LoadBalancer",
    description="An Octavia load balancer: a VIP on a subnet that listeners serve.",
    properties={
        "description": _description("Load Balancer"),
        "name": _string("Name of this Load Balancer.", update_allowed=True),
        "provider": _string("Provider for this Load Balancer."),
        "vip_address": _string("IP address for the VIP.", "ip_addr"),
        "vip_subnet": _string(
            "The name or ID of the subnet on which to allocate the VIP address.",
            "neutron.subnet",
            required=True,
        ),
        "admin_state_up": _admin_state_up("Load Balancer"),
        "tenant_id": _string(
            "The ID of the project who owns the Load Balancer (admin only, if not one's own).",
        ),
        "flavor": _string("The name or ID of the flavor of the Load Balancer.", "octavia.flavor"),
        "availability_zone": _string("The availability zone of the Load Balancer."),
    },
    attributes={
        **COMMON_ATTRIBUTES,
        "vip_address": Attribute("The VIP address of the LoadBalancer.", AttributeType.STRING),
        "vip_port_id": Attribute("The VIP port of the LoadBalancer.", AttributeType.STRING),
        "vip_subnet_id": Attribute("The VIP subnet of the LoadBalancer.", AttributeType.STRING),
        "pools": Attribute("Pools this LoadBalancer is associated with.", AttributeType.LIST),
        "flavor_id": Attribute("The flavor ID of the LoadBalancer.", AttributeType.STRING),
    },
)

LISTENER = ResourceType(
    name="OS::Octavia::Listener",
    description="An Octavia listener: a protocol and port a load balancer serves.",
    properties={
        "protocol_port": Property(
            PropertyType.INTEGER,
            "TCP or UDP port on which to listen for client traffic.",
            required=True,
            constraints=(_PORT,),
        ),
        "protocol": _string(
            "Protocol on which to listen for the client traffic.",
            required=True,
            constraints=(AllowedValues(PROTOCOLS),),
        ),
        "loadbalancer": _string(
            "ID or name of the load balancer with which listener is associated.",
            "octavia.loadbalancer",
            required=True,
        ),
        "default_pool": _string(
            "ID or name of the default pool for the listener.",
            "octavia.pool",
            update_allowed=True,
        ),
        "name": _string("Name of this listener.", update_allowed=True),
        "admin_state_up": _admin_state_up("listener"),
        "description": _description("listener"),
        "default_tls_container_ref": _string(
            "Default TLS container reference to retrieve TLS information.", update_allowed=True
        ),
        "sni_container_refs": Property(
            PropertyType.LIST, "List of TLS container references for SNI.", update_allowed=True
        ),
        "connection_limit": Property(
            PropertyType.INTEGER,
            "The maximum number of connections permitted for this load balancer; -1 is infinite.",
            default=-1,
            constraints=(Range(min=-1),),
            update_allowed=True,
        ),
        "tenant_id": _string("The ID of the project who owns the listener."),
        "allowed_cidrs": Property(
            PropertyType.LIST,
            "A list of IPv4, IPv6 or mixed CIDRs allowed to connect (default: all; a list "
            "denies the rest).",
            schema=_string("A CIDR.", "net_cidr"),
            update_allowed=True,
        ),
    },
    attributes={
        **COMMON_ATTRIBUTES,
        "loadbalancers": Attribute(
            "ID of the load balancer this listener is associated to.", AttributeType.LIST
        ),
        "default_pool_id": Attribute(
            "ID of the default pool this listener is associated to.", AttributeType.STRING
        ),
    },
    checks=(_check_listener,),
)

POOL = ResourceType(
    name="OS::Octavia::Pool",
    description="An Octavia pool: the members a listener (or load balancer) sends traffic to.",
    properties={
        "admin_state_up": _admin_state_up("pool"),
        "description": _description("pool"),
        "session_persistence": Property(
            PropertyType.MAP,
            "Configuration of session persistence.",
            schema={
                "type": _string(
                    "Method of implementation of session persistence feature.",
                    required=True,
                    constraints=(AllowedValues(SESSION_PERSISTENCE_TYPES),),
                ),
                "cookie_name": _string("Name of the cookie, required if type is APP_COOKIE."),
            },
            update_allowed=True,
        ),
        "name": _string("Name of this pool.", update_allowed=True),
        "lb_algorithm": _string(
            "The algorithm used to distribute load between the members of the pool.",
            required=True,
            constraints=(AllowedValues(LB_ALGORITHMS),),
            update_allowed=True,
        ),
        "listener": _string(
            "Listener name or ID to be associated with this pool.", "octavia.listener"
        ),
        "loadbalancer": _string(
            "Loadbalancer name or ID to be associated with this pool.", "octavia.loadbalancer"
        ),
        "protocol": _string(
            "Protocol of the pool.", required=True, constraints=(AllowedValues(PROTOCOLS),)
        ),
        "tls_enabled": Property(
            PropertyType.BOOLEAN,
            "Enable backend member re-encryption.",
            default=False,
            update_allowed=True,
        ),
    },
    attributes={
        **COMMON_ATTRIBUTES,
        "healthmonitor_id": Attribute(
            "ID of the health monitor associated with this pool.", AttributeType.STRING
        ),
        "listeners": Attribute("Listener associated with this pool.", AttributeType.STRING),
        "members": Attribute("Members associated with this pool.", AttributeType.LIST),
    },
    checks=(_check_pool,),
)

POOL_MEMBER = ResourceType(
    name="OS::Octavia::PoolMember",
    description="A member of an Octavia pool: an address and port traffic is sent to.",
    properties={
        "pool": _string("Name or ID of the load balancing pool.", "octavia.pool", required=True),
        "address": _string(
            "IP address of the pool member on the pool network.", "ip_addr", required=True
        ),
        "protocol_port": Property(
            PropertyType.INTEGER,
            "Port on which the pool member listens for requests or connections.",
            required=True,
            constraints=(_PORT,),
        ),
        "monitor_address": _string(
            "Alternate IP address which health monitor can use for health check.", "ip_addr"
        ),
        "monitor_port": Property(
            PropertyType.INTEGER,
            "Alternate Port which health monitor can use for health check.",
            constraints=(_PORT,),
        ),
        "weight": Property(
            PropertyType.INTEGER,
            "Weight of pool member in the pool (default to 1).",
            default=1,
            constraints=(Range(min=0, max=256),),
            update_allowed=True,
        ),
        "admin_state_up": _admin_state_up("pool member"),
        "subnet": _string("Subnet name or ID of this member.", "neutron.subnet"),
        "tags": Property(
            PropertyType.LIST,
            "A list of simple strings assigned to the member.",
            update_allowed=True,
        ),
    },
    attributes={
        **COMMON_ATTRIBUTES,
        "address": Attribute("The IP address of the pool member.", AttributeType.STRING),
        "pool_id": Attribute(
            "The ID of the pool to which the pool member belongs.", AttributeType.STRING
        ),
    },
)

HEALTH_MONITOR = ResourceType(
    name="OS::Octavia::HealthMonitor",
    description="An Octavia health monitor: how a pool checks that its members serve.",
    properties={
        "admin_state_up": _admin_state_up("health monitor"),
        "delay": Property(
            PropertyType.INTEGER,
            "The minimum time in seconds between regular connections of the member.",
            required=True,
            constraints=(Range(min=0),),
            update_allowed=True,
        ),
        "expected_codes": _string(
            "The HTTP status codes expected in response from the member to declare it "
            "healthy: a single value (200), a list (200, 202) or a range (200-204).",
            update_allowed=True,
        ),
        "http_method": _string(
            "The HTTP method used for requests by the monitor of type HTTP.",
            constraints=(AllowedValues(HTTP_METHODS),),
            update_allowed=True,
        ),
        "max_retries": Property(
            PropertyType.INTEGER,
            "Number of permissible connection failures before changing the member status "
            "to INACTIVE.",
            required=True,
            constraints=(Range(min=1, max=10),),
            update_allowed=True,
        ),
        "pool": _string("ID or name of the load balancing pool.", "octavia.pool", required=True),
        "timeout": Property(
            PropertyType.INTEGER,
            "Maximum number of seconds for a monitor to wait for a connection to be "
            "established before it times out.",
            required=True,
            constraints=(Range(min=0),),
            update_allowed=True,
        ),
        "type": _string(
            "One of predefined health monitor types.",
            required=True,
            constraints=(AllowedValues(HEALTH_MONITOR_TYPES),),
        ),
        "url_path": _string(
            "The HTTP path used in the HTTP request used by the monitor to test a member "
            "health (it begins with /).",
            update_allowed=True,
        ),
        "tenant_id": _string("ID of the tenant who owns the health monitor."),
    },
    attributes={
        **COMMON_ATTRIBUTES,
        "pools": Attribute("The list of Pools related to this monitor.", AttributeType.LIST),
    },
)

TYPES = (LOAD_BALANCER, LISTENER, POOL, POOL_MEMBER, HEALTH_MONITOR)
