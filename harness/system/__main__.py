"""``python -m harness.system``: see :mod:`harness.system.local`."""

import sys

from harness.system.local import main

sys.exit(main())
