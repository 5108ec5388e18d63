"""Heat's API in-process: the fixtures of tests/api (the app over the test's ZooKeeper)."""

from tests.api.conftest import ada, alice, anonymous, api_client, bob, rita, wsgi

__all__ = ["ada", "alice", "anonymous", "api_client", "bob", "rita", "wsgi"]
