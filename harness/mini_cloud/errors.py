"""The errors of the mini cloud (``harness.mini_cloud.cloud`` and its parts)."""

from __future__ import annotations

from cool.errors import CoolError


class MiniCloudError(CoolError):
    """A mini cloud could not be installed or started, or one of its services failed."""

    code = "harness.mini_cloud"
    title = "Local OpenStack problem"


class MiniCloudNotInstalledError(MiniCloudError):
    """The OpenStack venv or RabbitMQ is missing: run ``INSTALL_HINT`` / the install hook."""

    code = "harness.mini_cloud.not_installed"


class MiniCloudTimeoutError(MiniCloudError):
    """A service, a readiness condition or a manage command did not finish in time (or died)."""

    code = "harness.mini_cloud.timeout"
    retryable = True
