"""The errors of the local Keystone (``harness.keystone.server`` and its parts)."""

from __future__ import annotations

from cool.errors import CoolError


class KeystoneError(CoolError):
    """A local Keystone could not be installed, started, or refused a request."""

    code = "harness.keystone"
    title = "Local Keystone problem"


class KeystoneNotInstalledError(KeystoneError):
    """Keystone's virtual environment is missing or incomplete: run :data:`INSTALL_HINT`."""

    code = "harness.keystone.not_installed"


class KeystoneTimeoutError(KeystoneError):
    """A server or a keystone-manage command did not finish in time (or died)."""

    code = "harness.keystone.timeout"
    retryable = True
