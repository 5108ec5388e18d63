"""A real Keystone for the whole test session (``harness.keystone.server``).

Imported by ``tests/conftest.py``. The first session on a machine makes
Keystone's virtual environment (~30 s; ``scripts/test.sh`` makes it before
pytest runs) and its bootstrapped template (~6 s); each later session starts
from the template in ~4-6 s. Tests share the server, so each names its
projects and users uniquely (see :func:`unique_name`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from harness.keystone.server import KeystoneServer
from harness.keystone.venv import ensure_venv


def unique_name(prefix: str) -> str:
    """A project or user name no other test on the shared server uses."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def keystone() -> Iterator[KeystoneServer]:
    """One Keystone on a free loopback port, stopped (its whole process group) at the end."""
    server = KeystoneServer(venv=ensure_venv())
    try:
        server.start()
        yield server
    finally:
        server.stop()  # also when start() failed half way: no gunicorn outlives the session
