"""Template text -> Document: data, locations, and every refusal with its own code.

Line and column numbers are 1-based and were worked out by hand from the
texts below; for a mapping member the location is where its key is written.
"""

from __future__ import annotations

import textwrap
import time

import pytest

from cool.errors import TemplateInvalidError, TemplateTooLargeError
from cool.template.compile import check
from cool.template.parse import DEFAULT_LIMITS, DEFAULT_MAX_SIZE, Limits, parse
from cool.template.problems import Code, Problem


def _dedent(text: str) -> str:
    return textwrap.dedent(text)


def _refusal(text: str | bytes, limits: Limits | None = None) -> Problem:
    """The single problem parsing ``text`` reports."""
    with pytest.raises(TemplateInvalidError) as info:
        parse(text, limits)
    problems = info.value.problems
    assert len(problems) == 1, problems
    return problems[0]


def _where(problem: Problem) -> tuple[Code, str, int | None, int | None]:
    return problem.code, problem.pointer, problem.line, problem.column


# -- accepted text ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "data"),
    [
        pytest.param(
            _dedent(
                """\
                heat_template_version: 2018-08-31
                description: a test
                """
            ),
            {"heat_template_version": "2018-08-31", "description": "a test"},
            id="yaml-block",
        ),
        pytest.param(
            '{"heat_template_version": "2018-08-31", "resources": {}}',
            {"heat_template_version": "2018-08-31", "resources": {}},
            id="json",
        ),
        pytest.param(
            '  \n\t{"a": [1, 2.5, true, null, "x"]}',
            {"a": [1, 2.5, True, None, "x"]},
            id="json-after-whitespace",
        ),
        pytest.param(
            '{"a":\t{"b":\t1}}',
            {"a": {"b": 1}},
            id="json-with-tabs",
        ),
        pytest.param(
            "---\na: 1\n...\n",
            {"a": 1},
            id="yaml-explicit-single-document",
        ),
        pytest.param(
            "a: yes\nb: 0x10\nc: 2013-05-23\nd: ~\ne: '1'\nf: 1.5\ng: 'it''s'\n",
            {"a": True, "b": 16, "c": "2013-05-23", "d": None, "e": "1", "f": 1.5, "g": "it's"},
            id="yaml-scalars-timestamps-stay-strings",
        ),
        pytest.param("a: ! 1\n", {"a": 1}, id="yaml-non-specific-tag-as-pyyaml"),
        pytest.param("'<<': 1\n", {"<<": 1}, id="quoted-merge-key-is-plain-data"),
        pytest.param(
            '{"a": "&x", "b": "*x", "c": "!!str"}',
            {"a": "&x", "b": "*x", "c": "!!str"},
            id="json-strings-that-look-like-yaml",
        ),
        pytest.param(
            b"a: caf\xc3\xa9\n",
            {"a": "café"},
            id="utf8-bytes",
        ),
        pytest.param(
            b"\xef\xbb\xbfa: 1\n",
            {"a": 1},
            id="yaml-with-utf8-bom",
        ),
        pytest.param(
            b'\xef\xbb\xbf{"a": 1}',
            {"a": 1},
            id="json-with-utf8-bom",
        ),
        pytest.param(
            '{"a": 1e3, "b": 1.5e3, "c": 1.5E+3, "d": -2E-1}',
            {"a": 1000.0, "b": 1500.0, "c": 1500.0, "d": -0.2},
            id="json-exponent-numbers-are-numbers",
        ),
    ],
)
def test_parse_accepts(text: str | bytes, data: dict) -> None:
    assert parse(text).data == data


# -- locations ----------------------------------------------------------------

_YAML = _dedent(
    """\
    heat_template_version: 2018-08-31
    resources:
      web:
        type: OS::Heat::None
        properties:
          list:
            - first
            - {k: v}
          flow: [1, 2]
    """
)

_JSON = _dedent(
    """\
    {
      "heat_template_version": "2018-08-31",
      "resources": {
        "web": {"type": "OS::Heat::None", "properties": {"list": [1, {"k": 2}]}}
      }
    }
    """
)


@pytest.mark.parametrize(
    ("text", "path", "where"),
    [
        pytest.param(_YAML, (), (1, 1), id="yaml-root"),
        pytest.param(_YAML, ("heat_template_version",), (1, 1), id="yaml-top-key"),
        pytest.param(_YAML, ("resources",), (2, 1), id="yaml-section"),
        pytest.param(_YAML, ("resources", "web"), (3, 3), id="yaml-resource"),
        pytest.param(_YAML, ("resources", "web", "type"), (4, 5), id="yaml-type"),
        pytest.param(_YAML, ("resources", "web", "properties"), (5, 5), id="yaml-properties"),
        pytest.param(_YAML, ("resources", "web", "properties", "list"), (6, 7), id="yaml-list"),
        pytest.param(
            _YAML, ("resources", "web", "properties", "list", 0), (7, 11), id="yaml-list-item"
        ),
        pytest.param(
            _YAML, ("resources", "web", "properties", "list", 1), (8, 11), id="yaml-flow-map-item"
        ),
        pytest.param(
            _YAML,
            ("resources", "web", "properties", "list", 1, "k"),
            (8, 12),
            id="yaml-flow-map-key",
        ),
        pytest.param(_YAML, ("resources", "web", "properties", "flow"), (9, 7), id="yaml-flow"),
        pytest.param(
            _YAML, ("resources", "web", "properties", "flow", 0), (9, 14), id="yaml-flow-item-0"
        ),
        pytest.param(
            _YAML, ("resources", "web", "properties", "flow", 1), (9, 17), id="yaml-flow-item-1"
        ),
        pytest.param(_JSON, (), (1, 1), id="json-root"),
        pytest.param(_JSON, ("heat_template_version",), (2, 3), id="json-top-key"),
        pytest.param(_JSON, ("resources",), (3, 3), id="json-section"),
        pytest.param(_JSON, ("resources", "web"), (4, 5), id="json-resource"),
        pytest.param(_JSON, ("resources", "web", "type"), (4, 13), id="json-type"),
        pytest.param(_JSON, ("resources", "web", "properties"), (4, 39), id="json-properties"),
        pytest.param(_JSON, ("resources", "web", "properties", "list"), (4, 54), id="json-list"),
        pytest.param(
            _JSON, ("resources", "web", "properties", "list", 0), (4, 63), id="json-list-item-0"
        ),
        pytest.param(
            _JSON, ("resources", "web", "properties", "list", 1), (4, 66), id="json-list-item-1"
        ),
        pytest.param(
            _JSON,
            ("resources", "web", "properties", "list", 1, "k"),
            (4, 67),
            id="json-nested-key",
        ),
        pytest.param('{"a":\t1}', ("a",), (1, 2), id="json-tab-keeps-columns"),
        pytest.param("---\na: 1\n", ("a",), (2, 1), id="yaml-after-document-marker"),
    ],
)
def test_parse_records_location_of_every_node(
    text: str, path: tuple[str | int, ...], where: tuple[int, int]
) -> None:
    assert parse(text).locate(path) == where


@pytest.mark.parametrize(
    ("path", "where"),
    [
        pytest.param(("resources", "web", "nope"), (3, 3), id="missing-key-falls-back-to-parent"),
        pytest.param(
            ("resources", "web", "properties", "flow", 7), (9, 7), id="missing-index-to-list"
        ),
        pytest.param(("nope", "deeper"), (1, 1), id="missing-section-falls-back-to-root"),
    ],
)
def test_parse_locates_nearest_existing_ancestor(
    path: tuple[str | int, ...], where: tuple[int, int]
) -> None:
    assert parse(_YAML).locate(path) == where


# -- refusals -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code", "pointer", "line", "column"),
    [
        # Not a mapping.
        pytest.param("", Code.NOT_A_MAPPING, "", 1, 1, id="empty"),
        pytest.param("# only a comment\n", Code.NOT_A_MAPPING, "", 1, 1, id="only-comment"),
        pytest.param("- 1\n- 2\n", Code.NOT_A_MAPPING, "", 1, 1, id="list"),
        pytest.param("hello\n", Code.NOT_A_MAPPING, "", 1, 1, id="string"),
        pytest.param("42\n", Code.NOT_A_MAPPING, "", 1, 1, id="number"),
        pytest.param("[1]", Code.NOT_A_MAPPING, "", 1, 1, id="flow-list"),
        pytest.param(
            "# a header comment\n\n- 1\n", Code.NOT_A_MAPPING, "", 3, 1, id="list-after-comment"
        ),
        # YAML tags, on values, collections and keys.
        pytest.param("a: !!str 1\n", Code.YAML_TAG, "/a", 1, 4, id="tag-str"),
        pytest.param("a: !custom x\n", Code.YAML_TAG, "/a", 1, 4, id="tag-local"),
        pytest.param("a: !!binary aGk=\n", Code.YAML_TAG, "/a", 1, 4, id="tag-binary"),
        pytest.param(
            "a: !!python/object:os.system {}\n", Code.YAML_TAG, "/a", 1, 4, id="tag-python"
        ),
        pytest.param("a: !!seq [1]\n", Code.YAML_TAG, "/a", 1, 4, id="tag-seq"),
        pytest.param("a: !!map\n  x: 1\n", Code.YAML_TAG, "/a", 1, 4, id="tag-map-block"),
        pytest.param("b:\n  - !foo {x: 1}\n", Code.YAML_TAG, "/b/0", 2, 5, id="tag-in-list"),
        pytest.param("!!str a: 1\n", Code.YAML_TAG, "/a", 1, 1, id="tag-on-key"),
        # Keys that are not plain strings.
        pytest.param("&k a: 1\n", Code.INVALID_KEY, "/a", 1, 1, id="anchor-on-key"),
        pytest.param("? [a]\n: 1\n", Code.INVALID_KEY, "", 1, 3, id="collection-key"),
        pytest.param("a: &x k\n*x : 1\n", Code.INVALID_KEY, "", 2, 1, id="alias-key"),
        # Merge keys.
        pytest.param(
            "a: &x {k: 1}\nb:\n  <<: *x\n",
            Code.UNSUPPORTED_FEATURE,
            "/b",
            3,
            3,
            id="merge-key",
        ),
        # Multiple documents: at the second document.
        pytest.param("a: 1\n---\nb: 2\n", Code.MULTIPLE_DOCUMENTS, "", 2, 1, id="two-documents"),
        pytest.param(
            "---\na: 1\n---\nb: 2\n", Code.MULTIPLE_DOCUMENTS, "", 3, 1, id="two-explicit"
        ),
        pytest.param("a: 1\n---\n", Code.MULTIPLE_DOCUMENTS, "", 2, 1, id="empty-second"),
        # Non-finite floats: refused where written.
        pytest.param("a: .nan\n", Code.INVALID_VALUE, "/a", 1, 4, id="yaml-nan"),
        pytest.param("a: .NaN\n", Code.INVALID_VALUE, "/a", 1, 4, id="yaml-nan-mixed-case"),
        pytest.param("a: .inf\n", Code.INVALID_VALUE, "/a", 1, 4, id="yaml-inf"),
        pytest.param("a: -.inf\n", Code.INVALID_VALUE, "/a", 1, 4, id="yaml-minus-inf"),
        pytest.param("a:\n  - +.INF\n", Code.INVALID_VALUE, "/a/0", 2, 5, id="yaml-plus-inf"),
        pytest.param("a: 1.0e+999\n", Code.INVALID_VALUE, "/a", 1, 4, id="yaml-overflow"),
        pytest.param('{"a": 1.0e+999}', Code.INVALID_VALUE, "/a", 1, 7, id="json-overflow"),
        pytest.param('{"a": 1e999}', Code.INVALID_VALUE, "/a", 1, 7, id="json-overflow-no-dot"),
        pytest.param('{"a": NaN}', Code.INVALID_VALUE, "/a", 1, 7, id="json-nan"),
        pytest.param('{"a": Infinity}', Code.INVALID_VALUE, "/a", 1, 7, id="json-infinity"),
        pytest.param(
            '{\n  "a": 1,\n  "b": [-Infinity]\n}',
            Code.INVALID_VALUE,
            "/b/0",
            3,
            9,
            id="json-minus-infinity-in-list",
        ),
        # JSON syntax errors: json's own message, at json's own location.
        pytest.param('{"a": 1,}', Code.SYNTAX, "", 1, 9, id="json-trailing-comma"),
        pytest.param('{\n  "a": 1,\n  "b": }\n', Code.SYNTAX, "/b", 3, 8, id="json-missing-value"),
        pytest.param("{'a': 1}", Code.SYNTAX, "", 1, 2, id="json-single-quotes"),
        pytest.param('{"a": [1, 2}', Code.SYNTAX, "/a", 1, 12, id="json-unclosed-list"),
        pytest.param('{"a": tru}', Code.SYNTAX, "/a", 1, 7, id="json-bad-literal"),
        pytest.param('{"a": 1} x', Code.SYNTAX, "", 1, 10, id="json-extra-data"),
        pytest.param('{"a": 1}\n{"b": 2}', Code.SYNTAX, "", 2, 1, id="json-two-documents"),
        pytest.param("{a: 1}", Code.SYNTAX, "", 1, 2, id="json-like-heat-for-brace-start"),
        # YAML syntax errors. At the end of the text, the location is the end of
        # its last line (libyaml says one line further, past a final newline).
        pytest.param("a: b: c\n", Code.SYNTAX, "", 1, 5, id="yaml-mapping-in-scalar"),
        pytest.param("a: [1, 2\n", Code.SYNTAX, "/a", 1, 9, id="yaml-unclosed-flow"),
        pytest.param("a:\n  - 1\n - 2\n", Code.SYNTAX, "", 3, 2, id="yaml-bad-indent"),
        pytest.param("a: 'x\n", Code.SYNTAX, "", 1, 6, id="yaml-unclosed-quote"),
        pytest.param("a: *nope\n", Code.SYNTAX, "/a", 1, 4, id="yaml-unknown-alias"),
    ],
)
def test_parse_refuses(text: str, code: Code, pointer: str, line: int, column: int) -> None:
    assert _where(_refusal(text)) == (code, pointer, line, column)


def test_parse_reports_every_problem_of_the_same_pass() -> None:
    text = _dedent(
        """\
        a: 1
        b: !!str x
        c: .inf
        """
    )
    with pytest.raises(TemplateInvalidError) as info:
        parse(text)
    assert [_where(p) for p in info.value.problems] == [
        (Code.YAML_TAG, "/b", 2, 4),
        (Code.INVALID_VALUE, "/c", 3, 4),
    ]


# -- encoding -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "line", "column"),
    [
        pytest.param(b"a: \xff\n", 1, 4, id="invalid-byte"),
        pytest.param(b"a: 1\nb: c\xc3\n", 2, 5, id="truncated-sequence"),
        pytest.param(b"description: caf\xe9\n", 1, 17, id="latin-1"),
        pytest.param(b"\xff\xfea\x00:\x00", 1, 1, id="utf-16"),
        pytest.param(b"a: \xc3\xa9\xff\n", 1, 5, id="column-counts-characters-not-bytes"),
    ],
)
def test_parse_refuses_non_utf8(raw: bytes, line: int, column: int) -> None:
    assert _where(_refusal(raw)) == (Code.ENCODING, "", line, column)


def test_parse_refuses_unpaired_surrogates_where_they_are() -> None:
    assert _where(_refusal("a: 1\nb: x\ud800\n")) == (Code.ENCODING, "", 2, 5)


# -- size ---------------------------------------------------------------------


def _scalar_text(size: int, char: str = "x") -> str:
    """A valid one-key template of exactly ``size`` bytes of UTF-8."""
    body = size - len("a: \n")
    width = len(char.encode())
    assert body % width == 0
    return "a: " + char * (body // width) + "\n"


def test_parse_default_max_size_is_512_kib() -> None:
    assert DEFAULT_MAX_SIZE == 512 * 1024
    assert DEFAULT_LIMITS.max_size == DEFAULT_MAX_SIZE


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(_scalar_text(DEFAULT_MAX_SIZE), id="exactly-the-limit"),
        pytest.param(_scalar_text(DEFAULT_MAX_SIZE).encode(), id="exactly-the-limit-bytes"),
    ],
)
def test_parse_accepts_text_at_the_size_limit(text: str | bytes) -> None:
    assert len(parse(text).data["a"]) == DEFAULT_MAX_SIZE - 4


@pytest.mark.parametrize(
    ("text", "limits"),
    [
        pytest.param(_scalar_text(DEFAULT_MAX_SIZE + 1), None, id="one-byte-over"),
        pytest.param(
            _scalar_text(DEFAULT_MAX_SIZE + 2, "é"), None, id="bytes-counted-not-characters"
        ),
        pytest.param("[" * (DEFAULT_MAX_SIZE + 1), None, id="invalid-yaml-refused-for-size"),
        pytest.param(
            b"a: \xff" * (DEFAULT_MAX_SIZE // 4 + 1), None, id="invalid-utf8-refused-for-size"
        ),
        pytest.param("a: 1234567890\n", Limits(max_size=10), id="configured-limit"),
    ],
)
def test_parse_refuses_too_large_before_parsing(text: str | bytes, limits: Limits | None) -> None:
    with pytest.raises(TemplateTooLargeError) as info:
        parse(text, limits)
    assert info.value.status == 413
    assert [_where(p) for p in info.value.problems] == [(Code.TOO_LARGE, "", None, None)]


def test_parse_too_large_is_raised_by_check_not_reported(registry) -> None:
    with pytest.raises(TemplateTooLargeError) as info:
        check(_scalar_text(DEFAULT_MAX_SIZE + 1), registry, {})
    assert info.value.status == 413


# -- depth --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "pointer", "line", "column"),
    [
        pytest.param("a:\n  b:\n    c:\n      d: 1\n", "/a/b/c", 4, 7, id="block-mappings"),
        pytest.param("a: [[[[1]]]]\n", "/a/0/0", 1, 6, id="flow-lists"),
        pytest.param('{"a": [[[[1]]]]}', "/a/0/0", 1, 9, id="json"),
    ],
)
def test_parse_refuses_nesting_deeper_than_the_limit(
    text: str, pointer: str, line: int, column: int
) -> None:
    problem = _refusal(text, Limits(max_depth=3))
    assert _where(problem) == (Code.TOO_DEEP, pointer, line, column)


def test_parse_accepts_nesting_at_the_limit() -> None:
    assert parse("a:\n  b:\n    c: 1\n", Limits(max_depth=3)).data == {"a": {"b": {"c": 1}}}


# With the default limit of 64, level 65 is refused: the root is level 1,
# "a" level 2, so the refused collection is "a" followed by 63 list indexes.
_LEVEL_65 = "/a" + "/0" * 63


@pytest.mark.parametrize(
    ("text", "column"),
    [
        pytest.param("a: " + "[" * 200 + "]" * 200, 4 + 63, id="yaml-200"),
        pytest.param('{"a": ' + "[" * 200 + "]" * 200 + "}", 7 + 63, id="json-200"),
        pytest.param('{"a": ' + "[" * 2000 + "]" * 2000 + "}", 7 + 63, id="json-2000"),
    ],
)
def test_parse_refuses_very_deep_nesting_at_the_limit(text: str, column: int) -> None:
    assert _where(_refusal(text)) == (Code.TOO_DEEP, _LEVEL_65, 1, column)


# Past 1,000 levels libyaml refuses the text itself while scanning ahead, before
# any node reaches the builder: still too_deep, located at libyaml's 1,001st level.
@pytest.mark.parametrize(
    ("text", "pointer", "column"),
    [
        pytest.param("a: " + "[" * 2000 + "]" * 2000, "/a", 4 + 999, id="yaml-2000"),
    ],
)
def test_parse_refuses_nesting_past_libyaml_limit(text: str, pointer: str, column: int) -> None:
    assert _where(_refusal(text)) == (Code.TOO_DEEP, pointer, 1, column)


# -- aliases ------------------------------------------------------------------


def test_parse_expands_small_aliases_into_independent_copies() -> None:
    text = _dedent(
        """\
        common: &tags {env: prod, list: [1, 2]}
        a: *tags
        b: *tags
        size: &n 5
        c: *n
        """
    )
    document = parse(text)
    data = document.data
    assert data["a"] == data["b"] == {"env": "prod", "list": [1, 2]}
    assert data["c"] == 5
    data["a"]["list"].append(3)
    assert data["b"]["list"] == [1, 2]
    assert data["common"]["list"] == [1, 2]
    assert document.locate(("b",)) == (3, 1)
    assert document.locate(("b", "env")) == (3, 1)


_BILLION_LAUGHS = _dedent(
    """\
    a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
    b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
    c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
    d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
    e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
    f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
    g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
    h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
    i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
    """
)


def test_parse_refuses_billion_laughs_without_expanding_it() -> None:
    # Nodes before "f": root 1 + a 10 + b 91 + c 820 + d 7381 + e 66430 = 74733;
    # "f" itself makes 74734, and each *e adds 66430: the third (column 14)
    # takes the count to 274024, over 250000.
    started = time.process_time()
    problem = _refusal(_BILLION_LAUGHS)
    elapsed = time.process_time() - started
    assert _where(problem) == (Code.ALIAS_EXPANSION, "/f", 6, 14)
    # CPU seconds. Expanded, it would be a billion nodes: hours. Counted and refused:
    # milliseconds.
    assert elapsed < 10.0


def test_parse_counts_nodes_without_aliases_too() -> None:
    problem = _refusal("a: [1, 2, 3, 4, 5]\n", Limits(max_nodes=5))
    assert _where(problem) == (Code.TOO_LARGE, "/a", 1, 14)


@pytest.mark.parametrize(
    ("text", "data", "path", "where"),
    [
        ("a: 1\nb: 0\na: 2\n", {"a": 2, "b": 0}, ("a",), (3, 1)),
        ("a:\n  x: 1\na:\n  y: 2\n", {"a": {"y": 2}}, ("a", "y"), (4, 3)),
        ("a: [{k: 1, k: 2}]\n", {"a": [{"k": 2}]}, ("a", 0, "k"), (1, 12)),
        ('{"a": 1, "b": 0, "a": {"c": 2}}', {"a": {"c": 2}, "b": 0}, ("a",), (1, 18)),
    ],
    ids=["top", "collection", "flow", "json"],
)
def test_parse_a_key_written_twice_keeps_the_last_as_heat_does(
    text: str, data: dict, path: tuple, where: tuple[int, int]
) -> None:
    """Heat parses with PyYAML's SafeLoader (and JSON with ``json``): the last of two
    equal keys counts, silently; templates in use have them. Its place is the last's."""
    document = parse(text)
    assert document.data == data
    assert document.locate(path) == where
