"""kazoo's threading handler with a ``select`` that costs one system call.

kazoo's connection thread waits on its socket before every write and every read:
about four waits a request (a send, a wake-up, a reply's header, its body). Its
handler's ``select`` builds a new epoll selector each time (``epoll_create``, two
``epoll_ctl``, ``epoll_wait``, ``close``, and the ``selectors`` module's objects):
about 20 us a call here, against 2 us for ``poll(2)`` on the same two descriptors.
At a few thousand requests a second that was a large part of a worker's CPU per
step (docs/benchmarks.md). ``poll`` has no ``FD_SETSIZE`` limit either, which is
why kazoo left ``select(2)``.
"""

from __future__ import annotations

import select
from collections.abc import Sequence
from typing import Any

from kazoo.handlers.threading import SequentialThreadingHandler
from kazoo.handlers.utils import fileobj_to_fd

_READ = select.POLLIN
_WRITE = select.POLLOUT
# Ready for what was asked: the call that follows (a recv, a send) raises, as after
# epoll's EPOLLERR or EPOLLHUP. A descriptor closed under its socket (POLLNVAL) is
# refused as kazoo's selector refuses to register it.
_TROUBLE = select.POLLERR | select.POLLHUP


class PollHandler(SequentialThreadingHandler):
    """:class:`SequentialThreadingHandler` whose ``select`` is ``poll(2)``."""

    def select(
        self,
        rlist: Sequence[Any],
        wlist: Sequence[Any],
        xlist: Sequence[Any],
        timeout: float | None = None,
    ) -> tuple[list[Any], list[Any], list[Any]]:
        """As kazoo's ``selector_select``: the ready ones of ``rlist`` and ``wlist``
        (``xlist`` is never asked for), after at most ``timeout`` seconds."""
        if timeout is not None:
            if not isinstance(timeout, int | float):
                raise TypeError("timeout must be a number")
            if timeout < 0:
                raise ValueError("timeout must be non-negative")
        wanted: dict[int, int] = {}
        objects: dict[int, list[tuple[Any, int]]] = {}
        for fileobjs, mask in ((rlist, _READ), (wlist, _WRITE)):
            for fileobj in fileobjs:
                fd = fileobj_to_fd(fileobj)  # a closed socket: TypeError, as kazoo's
                wanted[fd] = wanted.get(fd, 0) | mask
                objects.setdefault(fd, []).append((fileobj, mask))
        poller = select.poll()
        for fd, mask in wanted.items():
            poller.register(fd, mask)
        readable: list[Any] = []
        writable: list[Any] = []
        for fd, events in poller.poll(None if timeout is None else timeout * 1000.0):
            if events & select.POLLNVAL:
                raise ValueError("Invalid event mask or fd")
            for fileobj, mask in objects.get(fd, ()):
                if events & (mask | _TROUBLE):
                    (readable if mask == _READ else writable).append(fileobj)
        return readable, writable, []
