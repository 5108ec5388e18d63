"""``python -m harness.mini_cloud``: see :mod:`harness.mini_cloud.cloud`."""

import sys

from harness.mini_cloud.cloud import main

sys.exit(main())
