"""What the validator reports: one :class:`Problem` per thing wrong.

Codes are stable API: clients and tests match on them, so a code is never
renamed, only added. Each problem carries a JSON pointer (RFC 6901) to where
the problem is in the document, and the line and column (1-based) of the
nearest node that exists there.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from enum import StrEnum

from cool.template.quoting import clip

# A validation reports at most this many problems, then one counting the rest
# (as compilers stop after N errors): a template can make a problem per node.
MAX_PROBLEMS = 100
# No message is longer, whatever quoted it (messages quote values shortened).
MAX_MESSAGE = 2000
_MAX_SEEN = 100_000  # problems remembered for dropping repeats (past it, repeats count)


class Code(StrEnum):
    # The text itself.
    TOO_LARGE = "cool.template.too_large"
    ENCODING = "cool.template.encoding"
    SYNTAX = "cool.template.syntax"
    MULTIPLE_DOCUMENTS = "cool.template.multiple_documents"
    NOT_A_MAPPING = "cool.template.not_a_mapping"
    YAML_TAG = "cool.template.yaml_tag"
    ALIAS_EXPANSION = "cool.template.alias_expansion"
    TOO_DEEP = "cool.template.too_deep"
    INVALID_KEY = "cool.template.invalid_key"
    # The structure of the template.
    MISSING_VERSION = "cool.template.missing_version"
    INVALID_VERSION = "cool.template.invalid_version"
    UNKNOWN_SECTION = "cool.template.unknown_section"
    UNKNOWN_KEY = "cool.template.unknown_key"
    MISSING_KEY = "cool.template.missing_key"
    INVALID_TYPE = "cool.template.invalid_type"
    INVALID_VALUE = "cool.template.invalid_value"
    INVALID_NAME = "cool.template.invalid_name"
    TOO_MANY_RESOURCES = "cool.template.too_many_resources"
    STACK_TOO_DEEP = "cool.template.stack_too_deep"  # nested stacks past max_stack_depth
    UNSUPPORTED_FEATURE = "cool.template.unsupported_feature"
    UNSUPPORTED_FUNCTION = "cool.template.unsupported_function"
    UNSUPPORTED_RESOURCE_TYPE = "cool.template.unsupported_resource_type"
    UNSUPPORTED_PROPERTY = "cool.template.unsupported_property"
    # Parameters: their declarations and the values given for them.
    INVALID_PARAMETER = "cool.parameter.invalid_declaration"
    INVALID_CONSTRAINT = "cool.parameter.invalid_constraint"
    PARAMETER_VALUE = "cool.parameter.invalid_value"
    PARAMETER_CONSTRAINT = "cool.parameter.constraint_violated"
    PARAMETER_MISSING = "cool.parameter.missing_value"
    PARAMETER_UNDECLARED = "cool.parameter.undeclared"
    UNKNOWN_GROUP_PARAMETER = "cool.parameter.unknown_in_group"
    # Functions and references.
    INVALID_FUNCTION = "cool.template.invalid_function"
    # A function the template's heat_template_version lacks (or no longer has).
    FUNCTION_VERSION = "cool.template.function_version"
    UNKNOWN_PARAMETER = "cool.template.unknown_parameter"
    UNKNOWN_RESOURCE = "cool.template.unknown_resource"
    UNKNOWN_ATTRIBUTE = "cool.template.unknown_attribute"
    INVALID_PATH = "cool.template.invalid_path"
    DEPENDENCY_CYCLE = "cool.template.dependency_cycle"
    RESOLUTION_TOO_LARGE = "cool.template.resolution_too_large"
    MISSING_FILE = "cool.template.missing_file"  # get_file names no file of the request
    # Conditions (cool.template.conditions).
    INVALID_CONDITION = "cool.template.invalid_condition"
    UNKNOWN_CONDITION = "cool.template.unknown_condition"
    CONDITION_CYCLE = "cool.template.condition_cycle"
    ABSENT_RESOURCE = "cool.template.absent_resource"  # referred to; its condition is false
    FEATURE_VERSION = "cool.template.feature_version"  # a section or field the version lacks
    # More problems than a report shows: the last problem counts them.
    TOO_MANY_PROBLEMS = "cool.template.too_many_problems"
    # Numbers in the JSON body around a template, located like a template's.
    REQUEST_MALFORMED = "cool.request.malformed"
    REQUEST_VALUE = "cool.request.invalid_value"
    # Properties against a resource type's schema.
    UNKNOWN_PROPERTY = "cool.template.unknown_property"
    MISSING_PROPERTY = "cool.template.missing_property"
    PROPERTY_TYPE = "cool.template.property_type"
    PROPERTY_CONSTRAINT = "cool.template.property_constraint"
    PROPERTY_CONFLICT = "cool.template.property_conflict"


@dataclass(frozen=True, slots=True)
class Problem:
    code: Code
    message: str
    pointer: str
    line: int | None = None
    column: int | None = None
    file: str | None = None  # None: the template; else an environment's name in the request

    def to_dict(self) -> dict[str, object]:
        source: dict[str, object] = {"pointer": self.pointer}
        if self.line is not None:
            source["line"] = self.line
            source["column"] = self.column
        if self.file is not None:
            source["file"] = self.file
        return {"code": str(self.code), "detail": self.message, "source": source}


class Problems:
    """The problems of one validation, bounded while they are collected.

    The first ``limit`` are kept (each message clipped to :data:`MAX_MESSAGE`);
    the rest are only counted, and where the first of them is remembered, so
    memory stays the same however many a template makes.
    """

    __slots__ = ("_first_hidden", "_hidden", "_kept", "_seen", "limit")

    def __init__(self, limit: int = MAX_PROBLEMS) -> None:
        self.limit = limit
        self._kept: list[Problem] = []
        self._hidden = 0
        self._first_hidden: Problem | None = None
        self._seen: set[int] = set()  # hashes of the problems met: each is reported once

    def append(self, problem: Problem, *, always: bool = False) -> None:
        """Keep ``problem``, or count it once the report is full (``always``: keep it
        anyway, for the one error that stopped the parser). A problem met again (the
        members of a group share their template, and its problems) is dropped."""
        key = hash(
            (
                problem.code,
                problem.pointer,
                problem.file,
                problem.line,
                problem.column,
                problem.message[:MAX_MESSAGE],
            )
        )
        if key in self._seen:
            return
        if len(self._seen) < _MAX_SEEN:
            self._seen.add(key)
        if len(self._kept) < self.limit or always:
            if len(problem.message) > MAX_MESSAGE:
                problem = replace(problem, message=clip(problem.message, MAX_MESSAGE))
            self._kept.append(problem)
            return
        if self._first_hidden is None:
            self._first_hidden = replace(problem, message="")
        self._hidden += 1

    def extend(self, problems: Iterator[Problem] | tuple[Problem, ...] | list[Problem]) -> None:
        for problem in problems:
            self.append(problem)

    def __len__(self) -> int:
        return len(self._kept) + self._hidden

    def __bool__(self) -> bool:
        return bool(self._kept)

    def __iter__(self) -> Iterator[Problem]:
        return iter(self._kept)

    def all(self) -> tuple[Problem, ...]:
        """What a report shows: the kept problems, then one saying how many more,
        located where the first of those is."""
        if self._first_hidden is None:
            return tuple(self._kept)
        more = self._hidden
        summary = replace(
            self._first_hidden,
            code=Code.TOO_MANY_PROBLEMS,
            message=f"{more:,} more problem{'s' if more > 1 else ''} not shown",
        )
        return (*self._kept, summary)


Path = tuple[str | int, ...]


def pointer(path: Path) -> str:
    """The RFC 6901 JSON pointer of ``path`` (``()`` is the whole document)."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def dotted(path: Path) -> str:
    """A path as people read it in messages: ``resources.web.properties.flavor``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            name = clip(str(part), 40)
            out += f".{name}" if out else name
    return clip(out, 200) or "the template"
