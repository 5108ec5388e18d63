"""The mini cloud's fixtures for these tests.

Delete this file once ``tests/conftest.py`` imports them for every test
(``from tests.openstack_fixture import member, mini_cloud``): a fixture
imported into two conftest files is two session fixtures, so two clouds.
"""

from tests.openstack_fixture import member, mini_cloud  # noqa: F401
