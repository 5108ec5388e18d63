"""What resolving a template's functions may produce, charged as it is produced.

str_replace, list_join and get_param can multiply what a template says: a
few hundred bytes of nested str_replace once made gigabytes. Every function
computes the size of what it is about to produce *before* producing it and
charges it to one :class:`Budget`, threaded through one resolution (a
template's, at validation; one resource's properties or a build's outputs,
at run time). Over the budget of one value, or of the whole resolution,
:class:`~cool.errors.ResolutionTooLargeError` is raised and nothing is
built. The numbers are the caller's (``[template]`` options). Pure: no I/O.
"""

from __future__ import annotations

from typing import Any

from cool.errors import ResolutionTooLargeError

DEFAULT_YAQL_S = 2.0  # seconds every yaql evaluation of one resolution may take in all


class Budget:
    """Bytes one resolution may still produce; ``exhausted`` once the whole is spent.

    A template of a nested stack has a budget of its own (a group of many members
    is many templates, each as large as one may be), charged to its ``parent``
    too: the budget of the whole plan, whose bound is ``[template]
    max_plan_bytes``. The same goes for the time yaql may take (``yaql_s``):
    one evaluation is bounded, and so is the sum of them in one resolution.
    """

    __slots__ = (
        "_exhausted",
        "max_resolved_bytes",
        "max_value_bytes",
        "parent",
        "used",
        "what",
        "yaql_s",
    )

    def __init__(
        self,
        *,
        max_value_bytes: int,
        max_resolved_bytes: int,
        parent: Budget | None = None,
        yaql_s: float = DEFAULT_YAQL_S,
        what: str = "the template",
    ) -> None:
        self.max_value_bytes = max_value_bytes
        self.max_resolved_bytes = max_resolved_bytes
        self.parent = parent
        self.used = 0
        self._exhausted = False
        self.yaql_s = yaql_s
        self.what = what

    @classmethod
    def of(cls, limits: Any, parent: Budget | None = None) -> Budget:
        """A fresh budget for one resolution under ``limits`` (a parse.Limits)."""
        return cls(
            max_value_bytes=limits.max_value_bytes,
            max_resolved_bytes=limits.max_resolved_bytes,
            parent=parent,
        )

    @classmethod
    def of_plan(cls, limits: Any) -> Budget:
        """The budget of a whole plan: every template of a nested tree charges it."""
        return cls(
            max_value_bytes=limits.max_value_bytes,
            max_resolved_bytes=limits.max_plan_bytes,
            yaql_s=limits.max_yaql_seconds,
            what="the build's plan (with its nested stacks)",
        )

    @property
    def exhausted(self) -> bool:
        return self._exhausted or (self.parent is not None and self.parent.exhausted)

    @property
    def remaining(self) -> int:
        own = self.max_resolved_bytes - self.used
        return own if self.parent is None else min(own, self.parent.remaining)

    @property
    def ceiling(self) -> int:
        """The most one value may still be: a size over it will be refused."""
        return min(self.max_value_bytes, self.remaining)

    @property
    def yaql_left_s(self) -> float:
        """Seconds yaql may still run in this resolution (and in its parent's)."""
        own = self.yaql_s
        return own if self.parent is None else min(own, self.parent.yaql_left_s)

    def spend_yaql(self, seconds: float) -> None:
        self.yaql_s -= seconds
        if self.parent is not None:
            self.parent.spend_yaql(seconds)

    def charge(self, function: str, size: int, *, at_least: bool = False) -> None:
        """Account for ``size`` bytes ``function`` is about to produce, or refuse them
        (``at_least``: it stopped counting there)."""
        produce = f"{function} would produce {'at least ' if at_least else ''}"
        if size > self.max_value_bytes:
            raise ResolutionTooLargeError(
                f"{produce}{size:,} bytes, over the {self.max_value_bytes:,}-byte budget of one "
                "value"
            )
        if size > self.max_resolved_bytes - self.used:
            self._exhausted = True
            whole = "the whole template" if self.what == "the template" else self.what
            raise ResolutionTooLargeError(
                f"{function} would bring what {self.what} resolves to "
                f"{self.used + size:,} bytes, over the {self.max_resolved_bytes:,}-byte "
                f"budget of {whole}"
            )
        if self.parent is not None:
            try:
                self.parent.charge(function, size, at_least=at_least)
            except ResolutionTooLargeError:
                self._exhausted = True
                raise
        self.used += size

    def measure(self, value: Any) -> tuple[int, bool]:
        """The size of ``value`` as JSON (about), and whether it was measured whole:
        counting stops past what could be charged, so measuring costs no more than
        the budget."""
        return measure(value, self.ceiling + 1)

    def charge_value(self, function: str, value: Any) -> int:
        """Charge a value ``function`` is about to hand out (measured first); its size."""
        size, whole = self.measure(value)
        self.charge(function, size, at_least=not whole)
        return size


def text_bytes(text: str) -> int:
    """The UTF-8 size of ``text`` (for ASCII, without encoding it)."""
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def measure(value: Any, limit: int) -> tuple[int, bool]:
    """About the size of ``value`` as JSON, and True; or, once past ``limit``,
    the size so far and False."""
    total = 0
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            total += text_bytes(node) + 2
        elif isinstance(node, dict):
            total += 2 + 4 * len(node)  # braces; quotes, ": " and ", " per member
            for key, item in node.items():
                total += text_bytes(key)
                stack.append(item)
        elif isinstance(node, list | tuple):
            total += 2 + 2 * len(node)
            stack.extend(node)
        elif isinstance(node, bool) or node is None:
            total += 5
        elif isinstance(node, int):
            total += node.bit_length() * 3 // 10 + 2  # digits, without str() of it
        else:
            total += 24  # a float, or a value the compiler keeps for run time
        if total > limit:
            return total, False
    return total, True
