"""The mini cloud's fixtures for these tests, and the end-to-end builds' (cool on it,
an admin's project, Octavia: :mod:`tests.openstack.builds`).

Move the mini cloud's to ``tests/conftest.py`` once it imports them for every test
(``from tests.openstack_fixture import member, mini_cloud``): a fixture
imported into two conftest files is two session fixtures, so two clouds.
"""

from tests.openstack.builds import admin, cool, octavia, project  # noqa: F401 (end-to-end builds)
from tests.openstack_fixture import member, mini_cloud  # noqa: F401
