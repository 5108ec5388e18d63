"""``python -m bench.openstack``: see :mod:`bench.openstack.run`."""

import sys

from bench.openstack.run import main

sys.exit(main())
