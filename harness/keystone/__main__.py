"""``python -m harness.keystone``: see :mod:`harness.keystone.server`."""

import sys

from harness.keystone.server import main

sys.exit(main())
