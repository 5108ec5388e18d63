"""Heat's implicit dependencies: a template Heat builds in order, cool builds in order.

Before, a port or server on a template's network could start before the network's
subnet (Neutron gives the port no address; Nova refuses a network without a subnet),
and a floating IP before the router interface that makes its port reachable (Neutron
refuses the association): templates that build in Heat failed in cool, at random.
"""

from __future__ import annotations

import textwrap

import pytest

from cool.model import Plan
from cool.resources.registry import ResourceTypeRegistry
from cool.template.compile import check

HEAD = """\
heat_template_version: 2018-08-31
parameters:
  public: {type: string, default: public}
resources:
  net: {type: OS::Neutron::Net}
  subnet:
    type: OS::Neutron::Subnet
    properties: {network: {get_resource: net}, cidr: 10.0.0.0/24}
"""


def _plan(registry: ResourceTypeRegistry, body: str, files: dict[str, str] | None = None) -> Plan:
    report = check(HEAD + textwrap.indent(textwrap.dedent(body), "  "), registry, {}, files=files)
    assert not report.problems, report.problems
    assert report.plan is not None
    return report.plan


def _deps(plan: Plan, name: str) -> set[str]:
    return set(plan.resource(name).depends_on)


def test_a_port_on_a_network_waits_for_its_subnets(registry: ResourceTypeRegistry) -> None:
    plan = _plan(
        registry,
        """\
          other: {type: OS::Neutron::Net}
          other_subnet:
            type: OS::Neutron::Subnet
            properties: {network: {get_resource: other}, cidr: 10.1.0.0/24}
          port: {type: OS::Neutron::Port, properties: {network: {get_resource: net}}}
        """,
    )
    assert _deps(plan, "port") == {"net", "subnet"}  # not the other network's subnet
    assert plan.resource("port").level > plan.resource("subnet").level


def test_a_port_on_a_network_named_by_a_parameter_waits_for_its_subnets(
    registry: ResourceTypeRegistry,
) -> None:
    plan = _plan(
        registry,
        """\
          ext_subnet:
            type: OS::Neutron::Subnet
            properties: {network: {get_param: public}, cidr: 10.2.0.0/24}
          port: {type: OS::Neutron::Port, properties: {network: public}}
        """,
    )
    assert _deps(plan, "port") == {"ext_subnet"}


def test_a_server_waits_for_the_subnets_of_its_networks(registry: ResourceTypeRegistry) -> None:
    plan = _plan(
        registry,
        """\
          other: {type: OS::Neutron::Net}
          other_subnet:
            type: OS::Neutron::Subnet
            properties: {network: {get_resource: other}, cidr: 10.1.0.0/24}
          server:
            type: OS::Nova::Server
            properties:
              image: cirros
              flavor: m1.tiny
              networks: [{network: {get_resource: net}}]
        """,
    )
    assert _deps(plan, "server") == {"net", "subnet"}


def test_a_server_on_a_port_only_waits_for_every_subnet(registry: ResourceTypeRegistry) -> None:
    """Heat cannot tell a port's network there: it waits for every subnet."""
    plan = _plan(
        registry,
        """\
          other: {type: OS::Neutron::Net}
          other_subnet:
            type: OS::Neutron::Subnet
            properties: {network: {get_resource: other}, cidr: 10.1.0.0/24}
          server:
            type: OS::Nova::Server
            properties: {image: cirros, flavor: m1.tiny, networks: [{port: some-port-id}]}
          bare:
            type: OS::Nova::Server
            properties: {image: cirros, flavor: m1.tiny}
        """,
    )
    assert _deps(plan, "server") == {"subnet", "other_subnet"}
    assert _deps(plan, "bare") == set()  # no networks: nothing to wait for


def test_a_floating_ip_waits_for_the_router_that_reaches_its_port(
    registry: ResourceTypeRegistry,
) -> None:
    plan = _plan(
        registry,
        """\
          router:
            type: OS::Neutron::Router
            properties: {external_gateway_info: {network: {get_param: public}}}
          interface:
            type: OS::Neutron::RouterInterface
            properties: {router: {get_resource: router}, subnet: {get_resource: subnet}}
          port: {type: OS::Neutron::Port, properties: {network: {get_resource: net}}}
          fip:
            type: OS::Neutron::FloatingIP
            properties: {floating_network: {get_param: public}, port_id: {get_resource: port}}
        """,
    )
    assert _deps(plan, "fip") == {"port", "router", "interface"}


def test_a_floating_ip_waits_for_the_interface_of_its_ports_fixed_subnet(
    registry: ResourceTypeRegistry,
) -> None:
    plan = _plan(
        registry,
        """\
          other: {type: OS::Neutron::Net}
          other_subnet:
            type: OS::Neutron::Subnet
            properties: {network: {get_resource: other}, cidr: 10.1.0.0/24}
          router: {type: OS::Neutron::Router}
          gateway:
            type: OS::Neutron::RouterGateway
            properties: {router_id: {get_resource: router}, network: public}
          interface:
            type: OS::Neutron::RouterInterface
            properties: {router: {get_resource: router}, subnet: {get_resource: subnet}}
          elsewhere:
            type: OS::Neutron::RouterInterface
            properties: {router: {get_resource: router}, subnet: {get_resource: other_subnet}}
          port:
            type: OS::Neutron::Port
            properties:
              network: {get_resource: net}
              fixed_ips: [{subnet: {get_resource: subnet}}]
          fip:
            type: OS::Neutron::FloatingIP
            properties: {floating_network: public, port_id: {get_resource: port}}
          association:
            type: OS::Neutron::FloatingIPAssociation
            properties: {floatingip_id: {get_resource: fip}, port_id: {get_resource: port}}
        """,
    )
    assert _deps(plan, "fip") == {"port", "gateway", "interface"}
    assert {"interface"} <= _deps(plan, "association")
    assert "elsewhere" not in _deps(plan, "association")
    # A router's gateway waits for the router's interfaces (Heat: its delete goes first).
    assert _deps(plan, "gateway") == {"router", "interface", "elsewhere"}


def test_an_implicit_dependency_that_would_close_a_cycle_is_left_out(
    registry: ResourceTypeRegistry,
) -> None:
    """The subnet here waits for the port (its description); Heat would refuse the
    template as circular, cool builds it in the order its references give."""
    plan = _plan(
        registry,
        """\
          port: {type: OS::Neutron::Port, properties: {network: {get_resource: net}}}
          subnet2:
            type: OS::Neutron::Subnet
            properties:
              network: {get_resource: net}
              cidr: 10.3.0.0/24
              name: {get_attr: [port, name]}
        """,
    )
    assert _deps(plan, "port") == {"net", "subnet"}
    assert _deps(plan, "subnet2") == {"net", "port"}


@pytest.mark.parametrize("external", [True, False])
def test_an_external_resource_waits_for_nothing(
    registry: ResourceTypeRegistry, external: bool
) -> None:
    external_id = "      external_id: 0e7d4c1e-2a0b-4b3a-9c39-6d1f5f3e9a11\n" if external else ""
    plan = _plan(
        registry,
        "  port:\n    type: OS::Neutron::Port\n"
        "    properties: {network: {get_resource: net}}\n" + external_id.replace("      ", "    "),
    )
    assert _deps(plan, "port") == (set() if external else {"net", "subnet"})


def test_a_nested_template_adds_its_own_and_not_its_parents(
    registry: ResourceTypeRegistry,
) -> None:
    member = textwrap.dedent(
        """\
        heat_template_version: 2018-08-31
        parameters:
          network: {type: string}
        resources:
          inner_subnet:
            type: OS::Neutron::Subnet
            properties: {network: {get_param: network}, cidr: 10.9.0.0/24}
          port: {type: OS::Neutron::Port, properties: {network: {get_param: network}}}
        """
    )
    plan = _plan(
        registry,
        """\
          member:
            type: member.yaml
            properties: {network: {get_resource: net}}
        """,
        files={"member.yaml": member},
    )
    assert _deps(plan, "member/port") >= {"member/inner_subnet"}
    assert "subnet" not in _deps(plan, "member/port") - {"net"}
