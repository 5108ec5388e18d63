"""What a piece of pure logic costs: its time untraced, and its peak of traced memory."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from typing import Any


def measured(run: Callable[[], Any]) -> tuple[Any, float, int]:
    """What ``run`` gives, the CPU seconds it took (this process's: other load on a
    shared machine does not count), and its peak of traced memory (traced in a
    second run: tracing slows Python down several times)."""
    started = time.process_time()
    run()
    elapsed = time.process_time() - started
    tracemalloc.start()
    try:
        result = run()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, elapsed, peak
