"""How scripts/test.sh spreads the suite over two processes (pytest-xdist).

Every test under ``tests/openstack/`` goes to one process: they share the
session's mini cloud, which costs ~40 s of both cores to start, so two
processes must not start one each. The short chaos runs (each a 3-node
ensemble, cool-api and 4 workers) go to one process too, one after the
other: two at once beside the cloud would make the machine, not cool, the
thing under test. The tests of Heat's real clients share one cool-api and its
workers (a package fixture): they stay together too. Every other test is a
unit of its own.
xdist hands out the largest unit first, so the cloud's tests start at once
and do not end the run alone.

The path decides, not an ``xdist_group`` mark: xdist puts a mark's group in
the test's node id, which pytest 9.2 no longer lets it change
(pytest-dev/pytest-xdist#1386), and marks added by a conftest hook reach it
too late (#1241).
"""

from __future__ import annotations

from xdist.scheduler import LoadGroupScheduling

CLOUD_TESTS = "tests/openstack/"
CHAOS_RUNS = "tests/bench/test_chaos.py::test_short_chaos_run"
# They share one cool-api, Keystone project and workers (a package fixture).
HEAT_CLIENT_TESTS = "tests/api/heat/clients/"


class CloudTestsTogether(LoadGroupScheduling):
    def _split_scope(self, nodeid: str) -> str:
        if nodeid.startswith(CLOUD_TESTS):
            return CLOUD_TESTS
        if nodeid.startswith(CHAOS_RUNS):
            return CHAOS_RUNS
        if nodeid.startswith(HEAT_CLIENT_TESTS):
            return HEAT_CLIENT_TESTS
        return super()._split_scope(nodeid)
