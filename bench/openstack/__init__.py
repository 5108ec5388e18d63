"""cool on the mini OpenStack cloud against a hand-written openstacksdk script
(``python -m bench.openstack``); :mod:`bench.openstack.run` is the command."""
