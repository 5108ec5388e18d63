"""The errors of the local Keystone (``cool.local.keystone`` and its parts)."""

from __future__ import annotations

from cool.errors import CoolError


class KeystoneError(CoolError):
    """A local Keystone could not be installed, started, or refused a request."""

    code = "cool.local.keystone"
    title = "Local Keystone problem"


class KeystoneNotInstalledError(KeystoneError):
    """Keystone's virtual environment is missing or incomplete: run :data:`INSTALL_HINT`."""

    code = "cool.local.keystone.not_installed"


class KeystoneTimeoutError(KeystoneError):
    """A server or a keystone-manage command did not finish in time (or died)."""

    code = "cool.local.keystone.timeout"
    retryable = True
