"""The openstack provider: one module per concern (cloud, errors, credentials,
identity, limits) and per service (neutron, nova, cinder); :mod:`.provider` joins them."""
