"""Bytes in znodes: compact JSON, and the build node compressed.

ZooKeeper refuses a znode (and a whole transaction) over ``jute.maxbuffer``,
1 MiB by default. The build node holds the plan, which is JSON and
compresses about tenfold, so it is stored zlib-compressed: a plan of a
template at the 512 KiB limit fits easily. A plan that still does not fit
under :data:`MAX_NODE_BYTES` once compressed is refused (HTTP 413), never
truncated. Other nodes are small by construction.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

from cool.errors import CoolError

# jute.maxbuffer is 1 MiB (1,048,575 bytes); a transaction carries every op
# and its paths, so the build node leaves room for the rest of its submit.
MAX_NODE_BYTES = 900 * 1024

_ZLIB = b"Z"
# What a compressed record may inflate to: plans are bounded well below it at
# validation ([template] max_plan_bytes); a record past it was not written by cool.
MAX_DECOMPRESSED = 64 * 1024 * 1024


class PlanTooLargeError(CoolError):
    code = "cool.build.too_large"
    status = 413
    title = "Plan too large"


class BuildTooLargeError(PlanTooLargeError):
    """A build's records together (plan, source) over what one submit may write."""

    title = "Build too large"


class CorruptRecordError(CoolError):
    """A znode holds bytes cool did not write: reported, never guessed at."""

    code = "cool.store.corrupt"


def dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, allow_nan=False).encode()


def loads(data: bytes | None) -> Any:
    if not data:
        return {}
    try:
        if data[:1] == _ZLIB:
            inflater = zlib.decompressobj()
            data = inflater.decompress(data[1:], MAX_DECOMPRESSED)
            if inflater.unconsumed_tail:
                raise CorruptRecordError(
                    f"a stored record inflates past {MAX_DECOMPRESSED:,} bytes: not read"
                )
        return json.loads(data)
    except (ValueError, zlib.error) as exc:
        raise CorruptRecordError(f"cannot decode a stored record: {exc}") from exc


def dumps_compressed(
    value: Any, *, what: str = "the plan", error: type[PlanTooLargeError] = PlanTooLargeError
) -> bytes:
    data = _ZLIB + zlib.compress(dumps(value), 6)
    if len(data) > MAX_NODE_BYTES:
        raise error(
            f"{what} takes {len(data)} bytes compressed, over the {MAX_NODE_BYTES} bytes "
            "a build record may take in ZooKeeper"
        )
    return data
