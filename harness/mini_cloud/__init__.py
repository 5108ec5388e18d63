"""A real, small OpenStack cloud on loopback (:mod:`.cloud`) and its parts."""
