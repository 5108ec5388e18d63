"""Sample values (cool validate --sample-values, scripts/heat_compat.py): each passes its
parameter's constraints, and a parameter's name says what a property it flows into
will check (a subnet's cidr, a port's fixed IP), so the whole template compiles."""

from __future__ import annotations

import pytest

from cool.model import ParameterSpec, ParameterType
from cool.resources.registry import ResourceTypeRegistry
from cool.template.compile import check
from cool.template.samples import sample_value, sample_values

NETWORK = """\
heat_template_version: 2016-10-14
parameters:
  private_net_cidr: {type: string}
  private_net_gateway: {type: string}
  dns_nameservers: {type: comma_delimited_list}
  private_net_pool_start: {type: string}
  private_net_pool_end: {type: string}
  subnet_gateway_ip: {type: string}
  host_ipaddress: {type: string}
  ServerIP: {type: string}
  mac_address: {type: string}
  name: {type: string}
resources:
  net: {type: OS::Neutron::Net, properties: {name: {get_param: name}}}
  subnet:
    type: OS::Neutron::Subnet
    properties:
      network: {get_resource: net}
      cidr: {get_param: private_net_cidr}
      gateway_ip: {get_param: private_net_gateway}
      dns_nameservers: {get_param: dns_nameservers}
      allocation_pools:
        - {start: {get_param: private_net_pool_start}, end: {get_param: private_net_pool_end}}
  port:
    type: OS::Neutron::Port
    properties:
      network: {get_resource: net}
      mac_address: {get_param: mac_address}
      fixed_ips: [{ip_address: {get_param: ServerIP}}]
  other:
    type: OS::Neutron::Subnet
    properties:
      network: {get_resource: net}
      cidr: 10.1.0.0/24
      gateway_ip: {get_param: subnet_gateway_ip}
  host:
    type: OS::Neutron::Port
    properties:
      network: {get_resource: net}
      fixed_ips: [{ip_address: {get_param: host_ipaddress}}]
"""


def test_names_choose_values_that_properties_accept(registry: ResourceTypeRegistry) -> None:
    report = check(NETWORK, registry, {})
    values = sample_values(report.parameters)
    assert values == {
        "private_net_cidr": "10.0.0.0/24",
        "private_net_gateway": "10.0.0.1",
        "dns_nameservers": ["8.8.8.8"],
        "private_net_pool_start": "10.0.0.100",
        "private_net_pool_end": "10.0.0.200",
        "subnet_gateway_ip": "10.0.0.1",
        "host_ipaddress": "10.0.0.10",
        "ServerIP": "10.0.0.10",
        "mac_address": "fa:16:3e:00:00:01",
        "name": "sample",
    }
    compiled = check(NETWORK, registry, values)
    assert compiled.problems == ()


@pytest.mark.parametrize(
    ("name", "constraints", "expected"),
    [
        # The parameter's own constraints come first: a hint that fails them is not used.
        ("subnet_cidr", ({"allowed_values": ["192.168.0.0/16"]},), "192.168.0.0/16"),
        ("server_ip", ({"length": {"min": 12}},), "fa:16:3e:00:00:01"),
        ("zip", (), "sample"),  # "ip" inside a word is not a hint
        ("admin_email_address", (), "admin@example.com"),
        ("dns_domain", (), "sample"),  # a DNS domain is no server's address
    ],
)
def test_a_hint_never_overrides_the_parameters_constraints(
    name: str, constraints: tuple[dict[str, object], ...], expected: str
) -> None:
    spec = ParameterSpec(name=name, type=ParameterType.STRING, constraints=constraints)
    assert sample_value(spec) == expected
