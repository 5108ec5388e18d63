"""Templates shared by the tests and the benchmarks."""

from __future__ import annotations

# Ten simulated OpenStack resources in five levels: a small, typical build. Its
# outputs depend neither on the build id nor on timing, so that a disturbed run can
# be compared with an undisturbed one; the key pair is named after the build, so that
# many builds of one project can run at once (a key pair's name is unique in a project).
TEN_RESOURCES = """\
heat_template_version: wallaby
resources:
  net: {type: OS::Neutron::Net, properties: {name: steady-net}}
  subnet:
    type: OS::Neutron::Subnet
    properties: {network: {get_resource: net}, cidr: 10.20.0.0/24}
  sg: {type: OS::Neutron::SecurityGroup, properties: {name: steady-sg}}
  vol1: {type: OS::Cinder::Volume, properties: {size: 1, name: v1}}
  vol2: {type: OS::Cinder::Volume, properties: {size: 2, name: v2}}
  key:
    type: OS::Nova::KeyPair
    properties: {name: {list_join: ['-', [key, {get_param: 'OS::stack_id'}]]}}
  port:
    type: OS::Neutron::Port
    properties:
      network: {get_resource: net}
      fixed_ips: [{subnet: {get_resource: subnet}}]
      security_groups: [{get_resource: sg}]
  server:
    type: OS::Nova::Server
    properties:
      name: steady-server
      image: cirros
      flavor: m1.tiny
      key_name: {get_resource: key}
      networks: [{port: {get_resource: port}}]
  attach1:
    type: OS::Cinder::VolumeAttachment
    properties: {instance_uuid: {get_resource: server}, volume_id: {get_resource: vol1}}
  attach2:
    type: OS::Cinder::VolumeAttachment
    properties: {instance_uuid: {get_resource: server}, volume_id: {get_resource: vol2}}
outputs:
  net_name: {value: {get_attr: [net, name]}}
  cidr: {value: {get_attr: [subnet, cidr]}}
  server_name: {value: {get_attr: [server, name]}}
  sizes: {value: {list_join: [',', [{get_attr: [vol1, size]}, {get_attr: [vol2, size]}]]}}
"""
