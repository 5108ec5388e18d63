"""The SIMULATED cloud (``sim``): one module per concern (store, inventory, faults,
audit, fencing, attributes, addresses) and per service (neutron, nova, cinder);
:mod:`.provider` joins them. Not a cloud."""
