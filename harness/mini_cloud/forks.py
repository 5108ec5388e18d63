"""Forked children that die with their parent: for the mini cloud's venv.

Copied by :mod:`harness.mini_cloud.venv` into the OpenStack venv as
``cool_die_with_parent.py``, with a ``.pth`` file that calls :func:`install`
at interpreter start; never imported by cool itself (it imports nothing of cool).

Why: every service of the mini cloud runs under ``setpriv --pdeathsig KILL``
(:mod:`harness.mini_cloud.processes`), so it dies when the thread that
started the cloud does, even on SIGKILL. But the kernel clears that signal in
the child of a fork, and some services fork workers of their own
(cinder-volume, a process per backend, through oslo.service): when a cloud's
starter was SIGKILLed, those workers lived on, reparented to init, polling
for good (two were found hours later, using 6% of a core each). With this
hook every child of ``os.fork()`` asks for the same signal when its parent
dies, so a chain of forks goes down link by link. ``subprocess`` children
(fork then exec, in C) are left alone: they run commands their parent waits for.
"""

from __future__ import annotations

import ctypes
import os
import signal

ENV_VAR = "COOL_DIE_WITH_PARENT"
_PR_SET_PDEATHSIG = 1
_forking = {"parent": 0}  # the pid that forks, read just before the fork


def _before_fork() -> None:
    _forking["parent"] = os.getpid()


def _die_with_parent() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != _forking["parent"]:  # the parent died before the signal was asked for
        os.kill(os.getpid(), signal.SIGKILL)


def install() -> None:
    """In the processes that ask for it (``COOL_DIE_WITH_PARENT=1``: the services)."""
    if os.environ.get(ENV_VAR) == "1":
        os.register_at_fork(before=_before_fork, after_in_child=_die_with_parent)
