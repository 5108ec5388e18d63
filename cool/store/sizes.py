"""How big a ZooKeeper write is, known before it is sent, and the bound cool keeps it under.

ZooKeeper refuses a request packet over ``jute.maxbuffer`` (0xfffff bytes,
1 MiB less one, by default) by dropping the client's connection; kazoo then
reconnects and sends the same packet again, forever. So every fenced write is
measured first and refused (:class:`~cool.errors.RecordTooLargeError`) when it
would not fit under :data:`MAX_WRITE_BYTES`, comfortably below the server's limit.

The size is an upper bound of the multi request's encoding: for each operation,
its path and data (UTF-8 bytes), its ACLs, and :data:`OP_OVERHEAD` for the
multi header, length prefixes, version and flags (21 bytes in jute's encoding
today); plus :data:`REQUEST_OVERHEAD` for the request's own header.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

MAX_WRITE_BYTES = 1_000_000  # the server's default limit is 1,048,575
OP_OVERHEAD = 64
REQUEST_OVERHEAD = 64


def op_size(op: Any) -> int:
    """An upper bound of one kazoo transaction operation's encoded size."""
    size = OP_OVERHEAD + len(str(getattr(op, "path", "")).encode())
    data = getattr(op, "data", None)
    if isinstance(data, bytes | bytearray):
        size += len(data)
    for acl in getattr(op, "acl", None) or ():
        size += 16 + len(str(acl.id.scheme).encode()) + len(str(acl.id.id).encode())
    return size


def transaction_size(operations: Iterable[Any]) -> int:
    """An upper bound of a multi request's encoded size (``TransactionRequest.operations``)."""
    return REQUEST_OVERHEAD + sum(op_size(op) for op in operations)
