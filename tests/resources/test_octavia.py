"""Octavia's types as Heat declares and validates them: a Heat template of the
load balancer family validates unchanged, and what Heat refuses, cool refuses, located."""

from __future__ import annotations

import pytest

from cool.resources import octavia
from cool.resources.registry import ResourceTypeRegistry
from cool.template.problems import Code
from tests.template.checking import check_text

_FAMILY = """\
    heat_template_version: 2018-08-31
    parameters:
      subnet: {type: string, default: private-subnet}
    resources:
      lb:
        type: OS::Octavia::LoadBalancer
        properties:
          vip_subnet: {get_param: subnet}
      listener:
        type: OS::Octavia::Listener
        properties:
          loadbalancer: {get_resource: lb}
          protocol: HTTP
          protocol_port: 80
      pool:
        type: OS::Octavia::Pool
        properties:
          listener: {get_resource: listener}
          lb_algorithm: ROUND_ROBIN
          protocol: HTTP
          session_persistence: {type: SOURCE_IP}
      member:
        type: OS::Octavia::PoolMember
        properties:
          pool: {get_resource: pool}
          address: 10.0.0.5
          protocol_port: 8080
          subnet: {get_param: subnet}
      monitor:
        type: OS::Octavia::HealthMonitor
        properties:
          pool: {get_resource: pool}
          type: HTTP
          delay: 5
          timeout: 3
          max_retries: 3
          url_path: /health
          expected_codes: "200-204"
    outputs:
      vip: {value: {get_attr: [lb, vip_address]}}
      port: {value: {get_attr: [lb, vip_port_id]}}
      pools: {value: {get_attr: [lb, pools]}}
      listener_lbs: {value: {get_attr: [listener, loadbalancers]}}
      members: {value: {get_attr: [pool, members]}}
      monitor_pools: {value: {get_attr: [monitor, pools]}}
"""


def test_the_family_declares_heats_types() -> None:
    assert {t.name for t in octavia.TYPES} == {
        "OS::Octavia::LoadBalancer",
        "OS::Octavia::Listener",
        "OS::Octavia::Pool",
        "OS::Octavia::PoolMember",
        "OS::Octavia::HealthMonitor",
    }


def test_a_heat_load_balancer_template_validates(registry: ResourceTypeRegistry) -> None:
    report = check_text(_FAMILY, registry)
    assert report.problems == ()


@pytest.mark.parametrize(
    ("old", "new", "pointer"),
    [
        (
            "protocol_port: 80",
            "protocol_port: 70000",
            "/resources/listener/properties/protocol_port",
        ),
        (
            "protocol: HTTP\n          protocol_port",
            "protocol: SCTP\n          protocol_port",
            "/resources/listener/properties/protocol",
        ),
        (
            "lb_algorithm: ROUND_ROBIN",
            "lb_algorithm: RANDOM",
            "/resources/pool/properties/lb_algorithm",
        ),
        (
            "{type: SOURCE_IP}",
            "{type: STICKY}",
            "/resources/pool/properties/session_persistence/type",
        ),
        ("max_retries: 3", "max_retries: 11", "/resources/monitor/properties/max_retries"),
        (
            "type: HTTP\n          delay",
            "type: ICMP\n          delay",
            "/resources/monitor/properties/type",
        ),
        ("address: 10.0.0.5", "address: 10.0.0.500", "/resources/member/properties/address"),
    ],
)
def test_what_heat_constrains_is_refused_where_it_is(
    registry: ResourceTypeRegistry, old: str, new: str, pointer: str
) -> None:
    text = _FAMILY.replace(old, new, 1)
    assert text != _FAMILY
    report = check_text(text, registry)
    assert [p.pointer for p in report.problems] == [pointer]


def test_a_pool_needs_a_listener_or_a_load_balancer(registry: ResourceTypeRegistry) -> None:
    report = check_text(
        _FAMILY.replace("listener: {get_resource: listener}", "name: web"), registry
    )
    assert [(p.code, p.pointer) for p in report.problems] == [
        (Code.MISSING_PROPERTY, "/resources/pool/properties/listener")
    ]
    also = _FAMILY.replace("listener: {get_resource: listener}", "loadbalancer: {get_resource: lb}")
    assert check_text(also, registry).problems == ()


def test_session_persistence_cookies_as_heat_checks_them(registry: ResourceTypeRegistry) -> None:
    app = check_text(_FAMILY.replace("{type: SOURCE_IP}", "{type: APP_COOKIE}"), registry)
    assert [p.pointer for p in app.problems] == [
        "/resources/pool/properties/session_persistence/cookie_name"
    ]
    named = "{type: APP_COOKIE, cookie_name: sid}"
    assert check_text(_FAMILY.replace("{type: SOURCE_IP}", named), registry).problems == ()
    source = "{type: SOURCE_IP, cookie_name: sid}"
    refused = check_text(_FAMILY.replace("{type: SOURCE_IP}", source), registry)
    assert [p.pointer for p in refused.problems] == [
        "/resources/pool/properties/session_persistence/cookie_name"
    ]


def test_terminated_https_needs_its_tls_container(registry: ResourceTypeRegistry) -> None:
    https = _FAMILY.replace(
        "protocol: HTTP\n          protocol_port",
        "protocol: TERMINATED_HTTPS\n          protocol_port",
        1,
    )
    report = check_text(https, registry)
    assert [p.pointer for p in report.problems] == [
        "/resources/listener/properties/default_tls_container_ref"
    ]
    given = https.replace(
        "protocol_port: 80", "protocol_port: 443\n          default_tls_container_ref: ref", 1
    )
    assert check_text(given, registry).problems == ()


def test_an_attribute_heat_does_not_declare_is_refused(registry: ResourceTypeRegistry) -> None:
    report = check_text(_FAMILY.replace("[lb, vip_address]", "[lb, vip]"), registry)
    assert [p.pointer for p in report.problems] == ["/outputs/vip/value/get_attr/1"]
