"""HOT's value functions (cool.template.hot_functions): results, refusals, versions, budget.

Results follow Heat's hot_spec examples and its implementations
(heat/engine/hot/functions.py); each refusal is matched by code and pointer.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cool.errors import ResolutionTooLargeError
from cool.resources.registry import ResourceTypeRegistry
from cool.template import functions as fn
from cool.template import hot_functions as hot
from cool.template import urls
from cool.template.budget import Budget
from cool.template.compile import Report, check
from cool.template.parse import Limits
from cool.template.problems import Code
from cool.template.values import Deferred, Unknown

LATEST = "2021-04-16"
_RESOURCE = "resources:\n  r:\n    type: OS::Heat::None\n"


def _report(
    value: Any, version: str = LATEST, params: str = "", limits: Limits | None = None
) -> Report:
    """The template with ``value`` as output ``o`` (one line of JSON, line 6)."""
    text = (
        f"heat_template_version: {version}\n{params}{_RESOURCE}"
        f"outputs:\n  o:\n    value: {json.dumps(value)}\n"
    )
    return check(text, ResourceTypeRegistry.load(), {}, *([limits] if limits else []))


def _value(value: Any, version: str = LATEST, params: str = "") -> Any:
    report = _report(value, version, params)
    assert not report.problems, [(p.code, p.pointer, p.message) for p in report.problems]
    assert report.plan is not None
    return report.plan.outputs[0].value


def _problems(value: Any, version: str = LATEST) -> list[tuple[Code, str]]:
    return [(p.code, p.pointer) for p in _report(value, version).problems]


# -- results ------------------------------------------------------------------------

_SHA = hashlib.sha512(b"abc").hexdigest()


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        # hot_spec's examples, then Heat's behaviour at the edges.
        ({"map_merge": [{"k1": "v1", "k2": "v2"}, {"k1": "v2"}]}, {"k1": "v2", "k2": "v2"}),
        ({"map_merge": [{"a": 1}, None, {}]}, {"a": 1}),
        ({"map_merge": []}, {}),
        (
            {
                "map_replace": [
                    {"k1": "v1", "k2": "v2"},
                    {"keys": {"k1": "K1"}, "values": {"v2": "V2"}},
                ]
            },
            {"K1": "v1", "k2": "V2"},
        ),
        ({"map_replace": [{"k": [1]}, {"values": {"x": "y"}}]}, {"k": [1]}),
        ({"map_replace": [{"a": "b"}, {"keys": {"a": "a"}}]}, {"a": "b"}),
        ({"list_concat": [["v1", "v2"], ["v3", "v4"]]}, ["v1", "v2", "v3", "v4"]),
        ({"list_concat": [["a"], None, []]}, ["a"]),
        ({"list_concat_unique": [["v1", "v2"], ["v2", "v3"]]}, ["v1", "v2", "v3"]),
        (
            {"list_concat_unique": [[1, {"a": [1]}], [True, 1.0, {"a": [1]}, "1"]]},
            [1, {"a": [1]}, "1"],
        ),
        ({"str_split": [",", "string,to,split"]}, ["string", "to", "split"]),
        ({"str_split": [",", "string,to,split", 1]}, "to"),
        ({"str_split": [",", "string,to,split", "2"]}, "split"),
        ({"str_split": [",", "a,b", -1]}, "b"),
        ({"str_split": [",", "a"]}, ["a"]),
        ({"digest": ["sha512", "abc"]}, _SHA),
        ({"digest": ["SHA512", "abc"]}, _SHA),
        (
            {
                "make_url": {
                    "scheme": "http",
                    "host": "192.0.2.10",
                    "port": 8080,
                    "path": "/hello",
                    "query": {"recipient": "world"},
                    "fragment": "greeting",
                }
            },
            "http://192.0.2.10:8080/hello?recipient=world#greeting",
        ),
        (
            {
                "make_url": {
                    "scheme": "https",
                    "username": "a b",
                    "password": "p@ss",
                    "host": "[fe80::1]",
                    "port": "443",
                    "path": "/x y",
                    "query": {"q": "a/b c"},
                }
            },
            "https://a%20b:p%40ss@[fe80::1]:443/x%20y?q=a/b+c",
        ),
        ({"make_url": {"host": "h"}}, "//h"),
        ({"filter": [[3], [1, 2, 3, 3]]}, [1, 2]),
        ({"filter": [None, [1]]}, [1]),
        ({"filter": [[1], []]}, []),
        ({"str_replace_strict": {"template": "a $x", "params": {"$x": 1}}}, "a 1"),
        ({"str_replace_strict": {"template": "a $x", "params": {"$x": None}}}, "a "),
        ({"str_replace_vstrict": {"template": "a $x", "params": {"$x": [1]}}}, "a [1]"),
        (
            {"repeat": {"for_each": {"<%x%>": ["1", "2"]}, "template": {"port": "<%x%>"}}},
            [{"port": "1"}, {"port": "2"}],
        ),
        (
            {
                "repeat": {
                    "for_each": {"%a%": ["1", "2"], "%b%": ["x", "y"]},
                    "template": {"%a%": "%a%-%b%"},
                }
            },
            [{"1": "1-x"}, {"1": "1-y"}, {"2": "2-x"}, {"2": "2-y"}],
        ),
        (
            {
                "repeat": {
                    "for_each": {"%a%": ["1", "2"], "%b%": ["x", "y"]},
                    "template": "%a%-%b%",
                    "permutations": False,
                }
            },
            ["1-x", "2-y"],
        ),
        ({"repeat": {"for_each": {"%k%": {"a": 1, "b": 2}}, "template": "%k%"}}, ["a", "b"]),
        ({"repeat": {"for_each": {"%a%": ["1"], "%b%": []}, "template": "%a%"}}, []),
        ({"repeat": {"for_each": {"%a%": None}, "template": "%a%"}}, []),
    ],
)
def test_result(expression: Any, expected: Any) -> None:
    assert _value(expression) == expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ({"Fn::Select": ["1", ["a", "b"]]}, "b"),
        ({"Fn::Select": ["5", ["a", "b"]]}, ""),
        ({"Fn::Select": ["k", {"k": "v"}]}, "v"),
        ({"Fn::Select": ["k", '{"k": "v"}']}, "v"),
        ({"Fn::Select": ["k", {}]}, ""),
        ({"Fn::Join": [",", ["a", "b", None]]}, "a,b,"),
        ({"Fn::Split": [",", "a,b"]}, ["a", "b"]),
        ({"Fn::Replace": [{"$x": "y", "$xx": 1}, "$xx $x"]}, "1 y"),
        ({"Fn::Base64": "plain"}, "plain"),
        (
            {
                "Fn::MemberListToMap": [
                    "Name",
                    "Value",
                    [".member.0.Name=k", ".member.0.Value=v", ".member.1.Name=x"],
                ]
            },
            {"k": "v"},
        ),
        ({"Ref": "p"}, "from-p"),
        ({"Ref": "r"}, {"get_resource": "r"}),
    ],
)
def test_result_cfn_in_2013_05_23(expression: Any, expected: Any) -> None:
    params = "parameters:\n  p:\n    type: string\n    default: from-p\n"
    assert _value(expression, "2013-05-23", params) == expected


def test_result_repeat_before_permutations_ignores_the_key() -> None:
    """Heat's Repeat of 2015-04-30 to 2017-02-24 reads no ``permutations``: all combinations."""
    expression = {
        "repeat": {
            "for_each": {"%a%": ["1", "2"], "%b%": ["x", "y"]},
            "template": "%a%%b%",
            "permutations": False,
        }
    }
    assert _value(expression, "2017-02-24") == ["1x", "1y", "2x", "2y"]


def test_result_functions_nest_and_read_parameters() -> None:
    params = "parameters:\n  nets:\n    type: comma_delimited_list\n    default: a,b\n"
    expression = {
        "list_concat_unique": [
            {"get_param": "nets"},
            {"str_split": ["-", {"list_join": ["-", ["b", "c"]]}]},
        ]
    }
    assert _value(expression, params=params) == ["a", "b", "c"]


# -- what waits for the build -------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        # Folded around a value known later when the function need not look at it.
        (
            {"list_concat": [["a"], [{"get_resource": "r"}]]},
            ["a", {"get_resource": "r"}],
        ),
        (
            {"map_merge": [{"a": {"get_attr": ["r", "x"]}}, {"b": 1}]},
            {"a": {"get_attr": ["r", "x"]}, "b": 1},
        ),
        # Kept whole where it must.
        (
            {"map_merge": [{"a": 1}, {"get_attr": ["r", "m"]}]},
            {"map_merge": [{"a": 1}, {"get_attr": ["r", "m"]}]},
        ),
        (
            {"str_split": [",", {"get_attr": ["r", "csv"]}, 0]},
            {"str_split": [",", {"get_attr": ["r", "csv"]}, 0]},
        ),
        (
            {"get_attr": ["r", "networks", {"get_attr": ["r", "name"]}, 0]},
            {"get_attr": ["r", "networks", {"get_attr": ["r", "name"]}, 0]},
        ),
    ],
)
def test_deferred_expression_is_kept_for_run_time(expression: Any, expected: Any) -> None:
    assert _value(expression) == expected


def test_deferred_expression_evaluates_at_run_time_through_functions_resolve() -> None:
    kept = _value(
        {
            "list_concat_unique": [
                {"str_split": [",", {"get_attr": ["r", "csv"]}]},
                {"repeat": {"for_each": {"%i%": ["1"]}, "template": {"get_attr": ["r", "t"]}}},
            ]
        }
    )
    assert "get_attr" in json.dumps(kept)
    attributes = {"csv": "x,y,x", "m": {"a": 1}, "t": "t%i%"}
    value = fn.resolve(
        {
            "list_concat": [
                kept,
                [{"map_replace": [{"get_attr": ["r", "m"]}, {"keys": {"a": "A"}}]}],
            ]
        },
        get_resource=lambda name: "id-" + name,
        get_attr=lambda name, attribute: attributes[attribute],
        pseudo={},
        budget=Budget(max_value_bytes=10_000, max_resolved_bytes=10_000),
    )
    assert value == ["x", "y", "t1", {"A": 1}]


def test_run_time_argument_error_is_a_value_error_for_the_step_note() -> None:
    with pytest.raises(ValueError, match="map_merge merges maps; this item is a string"):
        fn.resolve(
            {"map_merge": [{"get_attr": ["r", "x"]}]},
            get_resource=str,
            get_attr=lambda name, attribute: "text",
            pseudo={},
        )


# -- refusals -----------------------------------------------------------------------

_O = "/outputs/o/value"
_BAD = Code.INVALID_FUNCTION


@pytest.mark.parametrize(
    ("expression", "pointer"),
    [
        ({"map_merge": "x"}, "/map_merge"),
        ({"map_merge": [{"a": 1}, [1]]}, "/map_merge/1"),
        ({"map_replace": [{}]}, "/map_replace"),
        ({"map_replace": [{}, {"kyes": {}}]}, "/map_replace/1/kyes"),
        ({"map_replace": [{}, {"keys": []}]}, "/map_replace/1/keys"),
        ({"map_replace": [{"a": 1, "b": 2}, {"keys": {"a": "b"}}]}, "/map_replace/1/keys/a"),
        (
            {"map_replace": [{"a": 1, "b": 2}, {"keys": {"a": "c", "b": "c"}}]},
            "/map_replace/1/keys/b",
        ),
        ({"list_concat": {"a": 1}}, "/list_concat"),
        ({"list_concat": [[1], "x"]}, "/list_concat/1"),
        ({"list_concat_unique": [[1], 2]}, "/list_concat_unique/1"),
        ({"str_split": ","}, "/str_split"),
        ({"str_split": [",", 5]}, "/str_split/1"),
        ({"str_split": [1, "a"]}, "/str_split/0"),
        ({"str_split": ["", "a"]}, "/str_split/0"),
        ({"str_split": [",", "a,b", 2]}, "/str_split/2"),
        ({"str_split": [",", "a,b", "x"]}, "/str_split/2"),
        ({"digest": ["sha512"]}, "/digest"),
        ({"digest": ["sha512", 1]}, "/digest/1"),
        ({"digest": ["rot13", "a"]}, "/digest/0"),
        ({"digest": ["shake_128", "a"]}, "/digest/0"),
        ({"digest": ["md5", "\u20ac"]}, "/digest/1"),
        ({"make_url": "http://x"}, "/make_url"),
        ({"make_url": {"hots": "x"}}, "/make_url/hots"),
        ({"make_url": {"port": 0}}, "/make_url/port"),
        ({"make_url": {"port": "http"}}, "/make_url/port"),
        ({"make_url": {"query": "a=b"}}, "/make_url/query"),
        ({"make_url": {"host": 5}}, "/make_url/host"),
        ({"make_url": {"scheme": "http:"}}, "/make_url/scheme"),
        ({"filter": [[1]]}, "/filter"),
        ({"filter": [[1], "abc"]}, "/filter/1"),
        ({"filter": ["a", [1]]}, "/filter/0"),
        (
            {"str_replace_strict": {"template": "a", "params": {"b": "c"}}},
            "/str_replace_strict/params",
        ),
        ({"str_replace_strict": {"template": "a", "params": []}}, "/str_replace_strict/params"),
        ({"str_replace_strict": {"template": 1, "params": {}}}, "/str_replace_strict/template"),
        ({"str_replace_strict": {"template": "a"}}, "/str_replace_strict"),
        (
            {"str_replace_vstrict": {"template": "a", "params": {"a": ""}}},
            "/str_replace_vstrict/params/a",
        ),
        (
            {"str_replace_vstrict": {"template": "a", "params": {"a": None}}},
            "/str_replace_vstrict/params/a",
        ),
        ({"repeat": {"template": "x"}}, "/repeat"),
        ({"repeat": {"for_each": [], "template": "x"}}, "/repeat/for_each"),
        ({"repeat": {"for_each": {}, "template": "x"}}, "/repeat/for_each"),
        ({"repeat": {"for_each": {"%a%": "ab"}, "template": "x"}}, "/repeat/for_each/%a%"),
        ({"repeat": {"for_each": {"%a%": [1]}, "template": "%a%"}}, "/repeat/for_each/%a%/0"),
        (
            {"repeat": {"for_each": {"%a%": ["1"]}, "template": "x", "permutations": "no"}},
            "/repeat/permutations",
        ),
        (
            {"repeat": {"for_each": {"%a%": {"k": 1}}, "template": "x", "permutations": False}},
            "/repeat/for_each/%a%",
        ),
        (
            {
                "repeat": {
                    "for_each": {"%a%": ["1"], "%b%": []},
                    "template": "x",
                    "permutations": False,
                }
            },
            "/repeat/for_each",
        ),
        # Shape errors are found with arguments that wait for the build.
        ({"map_merge": [{"get_attr": ["r", "m"]}, "x"]}, "/map_merge/1"),
        ({"str_split": [",", {"get_resource": "r"}, "x"]}, "/str_split/2"),
        ({"make_url": {"host": {"get_attr": ["r", "ip"]}, "port": 70000}}, "/make_url/port"),
    ],
)
def test_refused(expression: Any, pointer: str) -> None:
    assert _problems(expression) == [(_BAD, _O + pointer)]


def test_refused_message_names_the_function_and_the_problem() -> None:
    (problem,) = _report({"map_replace": [{"a": 1, "b": 2}, {"keys": {"a": "b"}}]}).problems
    assert problem.message == "key replacement 'b' collides with a key in the input map"
    assert (problem.line, problem.column) == (7, 57)  # at the key renamed


def test_refused_cfn_functions_cool_does_not_run() -> None:
    assert _problems({"Fn::GetAZs": ""}, "2013-05-23") == [
        (Code.UNSUPPORTED_FUNCTION, f"{_O}/Fn::GetAZs")
    ]


# -- versions -----------------------------------------------------------------------

_ARGS: dict[str, Any] = {
    "repeat": {"for_each": {"%a%": ["1"]}, "template": "%a%"},
    "digest": ["md5", "a"],
    "str_split": [",", "a"],
    "map_merge": [{}],
    "map_replace": [{}, {}],
    "filter": [[], [1]],
    "str_replace_strict": {"template": "a", "params": {"a": "b"}},
    "make_url": {"host": "h"},
    "list_concat": [[1]],
    "list_concat_unique": [[1]],
    "str_replace_vstrict": {"template": "a", "params": {"a": "b"}},
}
_ORDER = list(hot.versions.VERSIONS)


@pytest.mark.parametrize(("name", "args"), list(_ARGS.items()))
@pytest.mark.parametrize("version", _ORDER)
def test_version_has_the_function_from_its_first_version(
    name: str, args: Any, version: str
) -> None:
    since = hot.AVAILABLE[name][0]
    problems = _report({name: args}, version).problems
    if version >= since:
        assert not problems
        return
    (problem,) = problems
    assert (problem.code, problem.pointer) == (Code.FUNCTION_VERSION, f"{_O}/{name}")
    assert f"it came in {hot.versions.label(since)}" in problem.message


@pytest.mark.parametrize(
    ("name", "args", "removed"),
    [
        ("Fn::Select", [0, ["a"]], "2015-10-15"),
        ("Fn::Join", [",", ["a"]], "2014-10-16"),
        ("Fn::Split", [",", "a"], "2014-10-16"),
        ("Fn::Replace", [{}, "a"], "2014-10-16"),
        ("Fn::Base64", "a", "2014-10-16"),
        ("Fn::MemberListToMap", ["N", "V", []], "2014-10-16"),
        ("Ref", "r", "2014-10-16"),
    ],
)
@pytest.mark.parametrize("version", _ORDER)
def test_version_removes_cfn_functions_as_heat_does(
    name: str, args: Any, removed: str, version: str
) -> None:
    problems = _report({name: args}, version).problems
    if version < removed:
        assert not problems
        return
    (problem,) = problems
    assert (problem.code, problem.pointer) == (Code.FUNCTION_VERSION, f"{_O}/{name}")
    assert f"it was removed in {hot.versions.label(removed)}" in problem.message


def test_version_release_alias_counts_as_its_date() -> None:
    assert _value({"map_merge": [{"a": 1}]}, "newton") == {"a": 1}
    assert _problems({"list_concat": [[1]]}, "ocata") == [
        (Code.FUNCTION_VERSION, f"{_O}/list_concat")
    ]


def test_version_repeat_maps_need_2016_10_14() -> None:
    expression = {"repeat": {"for_each": {"%k%": {"a": 1}}, "template": "%k%"}}
    assert _problems(expression, "2016-04-08") == [(_BAD, f"{_O}/repeat/for_each/%k%")]
    assert _value(expression, "2016-10-14") == ["a"]


# -- budget -------------------------------------------------------------------------


def _budget(value_bytes: int = 1000, total: int = 10_000) -> Budget:
    return Budget(max_value_bytes=value_bytes, max_resolved_bytes=total)


@pytest.mark.parametrize(
    ("function", "args"),
    [
        # Multiplied by combinations: 10 lists of 10 are 10^10 copies, refused before one.
        (
            hot.repeat,
            {
                "for_each": {f"%{i}%": [str(j) for j in range(10)] for i in range(10)},
                "template": "x",
            },
        ),
        # One copy with a key a thousand times, replaced by a long value.
        (hot.repeat, {"for_each": {"%a%": ["y" * 100]}, "template": "%a%" * 1000}),
        (hot.list_concat, [["x" * 100] * 6, ["x" * 100] * 6]),
        (hot.list_concat_unique, [[str(i) * 50 for i in range(30)]]),
        (hot.map_merge, [{str(i): "v" * 100 for i in range(20)}]),
        (hot.str_split, [",", "," * 900]),
        (hot.map_replace, [{str(i): "v" for i in range(200)}, {"values": {"v": "w" * 100}}]),
    ],
)
def test_budget_refuses_what_a_function_would_produce_over_it(function: Any, args: Any) -> None:
    budget = _budget()
    with pytest.raises(ResolutionTooLargeError, match="would produce"):
        function(args, budget)
    assert budget.used == 0  # nothing was charged, nothing kept


def test_budget_charges_what_is_produced() -> None:
    budget = _budget()
    hot.list_concat([["ab"], ["cd"]], budget)
    assert 0 < budget.used < 100


def test_budget_over_is_located_at_compile_time() -> None:
    limits = Limits(max_value_bytes=1000, max_resolved_bytes=10_000)
    expression = {"repeat": {"for_each": {"%a%": ["1"] * 1000}, "template": "%a%"}}
    problems = _report(expression, limits=limits).problems
    assert [(p.code, p.pointer) for p in problems] == [(Code.RESOLUTION_TOO_LARGE, f"{_O}/repeat")]


def test_budget_at_run_time_through_functions_resolve() -> None:
    with pytest.raises(ResolutionTooLargeError):
        fn.resolve(
            {"str_split": [",", {"get_attr": ["r", "csv"]}]},
            get_resource=str,
            get_attr=lambda name, attribute: "," * 10_000,
            pseudo={},
            budget=_budget(),
        )


# -- any input ----------------------------------------------------------------------

_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from(["", ",", "a,b", "%a%", "x", "keys", "values", "1", "sha256", "host"]),
    st.builds(Deferred, st.just({"get_resource": "r"})),
    st.builds(Unknown),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.sampled_from(["template", "params", "for_each", "%a%", "keys", "values", "port"]),
            inner,
            max_size=4,
        ),
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(sorted(hot.FUNCTIONS)), args=_VALUES)
def test_any_arguments_give_a_value_or_a_located_refusal(name: str, args: Any) -> None:
    with contextlib.suppress(hot.ArgumentError, ResolutionTooLargeError):
        hot.fold(name, args, _budget(), LATEST)


@settings(max_examples=300, deadline=None)
@given(
    parts=st.tuples(st.text(max_size=8), st.text(max_size=8), st.text(max_size=8)),
    scheme=st.sampled_from(["", "http", "mailto", "svn+ssh"]),
)
def test_make_url_escapes_as_urllib_does(parts: tuple[str, str, str], scheme: str) -> None:
    from urllib import parse

    text, key, value = parts
    assert urls.quote(text) == parse.quote(text)
    assert urls.quote(text, safe=":") == parse.quote(text, safe=":")
    assert urls.urlencode({key: value, "n": 5}) == parse.urlencode({key: value, "n": 5})
    split = (scheme, urls.quote(key), urls.quote(text), "", urls.quote(value))
    assert urls.urlunsplit(*split) == parse.urlunsplit(split)


# -- a folded value is data: never one that reads as a function (review of issue 17) ---
#
# The plan keeps compile-time results as plain data, and the run-time walk
# (functions.resolve) takes any one-key mapping naming a function for a call: these
# ran in the worker (a KeyError there killed the runner). Heat keeps them as data;
# cool refuses them where they are made.

_SHAPED = "2013-05-23"


@pytest.mark.parametrize(
    ("expression", "version", "pointer"),
    [
        (
            {"map_replace": [{"k": {"a": 1}}, {"keys": {"k": "str_replace"}}]},
            LATEST,
            "/map_replace",
        ),
        ({"map_replace": [{"k": "nope"}, {"keys": {"k": "get_param"}}]}, LATEST, "/map_replace"),
        ({"map_replace": [{"k": 1}, {"keys": {"k": "yaql"}}]}, LATEST, "/map_replace"),
        (
            {"map_replace": [{"k": {"get_resource": "r"}}, {"keys": {"k": "list_join"}}]},
            LATEST,
            "/map_replace",
        ),
        (
            {"repeat": {"for_each": {"%f%": ["get_attr"]}, "template": {"%f%": ["r", "x"]}}},
            LATEST,
            "/repeat",
        ),
        (
            {"list_concat": [[{"map_replace": [{"k": 1}, {"keys": {"k": "get_resource"}}]}]]},
            LATEST,
            "/list_concat/0/0/map_replace",
        ),
        (
            {"map_merge": [{"a": {"map_replace": [{"k": "x"}, {"keys": {"k": "get_file"}}]}}]},
            LATEST,
            "/map_merge/0/a/map_replace",
        ),
        ({"Fn::Select": ["0", '[{"get_resource": "zzz"}]']}, _SHAPED, "/Fn::Select"),
        ({"Fn::Select": ["k", '{"k": {"Ref": "p"}}']}, _SHAPED, "/Fn::Select"),
        (
            {"Fn::MemberListToMap": ["N", "V", [".member.0.N=get_param", ".member.0.V=p"]]},
            _SHAPED,
            "/Fn::MemberListToMap",
        ),
    ],
)
def test_refused_a_folded_value_that_would_read_as_a_function(
    expression: Any, version: str, pointer: str
) -> None:
    report = _report(expression, version)
    assert [(p.code, p.pointer) for p in report.problems] == [(_BAD, _O + pointer)]
    assert "would read as" in report.problems[0].message
    assert report.plan is None


def test_a_folded_value_with_two_keys_is_data() -> None:
    expression = {"map_replace": [{"k": 1, "z": 2}, {"keys": {"k": "get_param"}}]}
    assert _value(expression) == {"get_param": 1, "z": 2}


def test_a_json_default_written_as_text_that_reads_as_a_function_is_refused() -> None:
    params = 'parameters:\n  j:\n    type: json\n    default: \'{"get_param": "x"}\'\n'
    report = _report({"get_param": "j"}, LATEST, params)
    assert [(p.code, p.pointer) for p in report.problems] == [
        (Code.INVALID_PARAMETER, "/parameters/j/default")
    ]


# -- numbers in user text (review of issue 17) ---------------------------------------


def test_member_list_index_of_5000_digits_is_skipped_as_heat_does() -> None:
    """Heat's extract_param_list skips an index int() refuses (Python's 4,300 digits)."""
    long = "9" * 5000
    members = [f".member.{long}.Name=a", f".member.{long}.Value=b", ".member.0.Name=c"]
    members.append(".member.0.Value=d")
    assert _value({"Fn::MemberListToMap": ["Name", "Value", members]}, _SHAPED) == {"c": "d"}


# -- Heat's edges (review of issue 17) -------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        # Heat leaves a null list out of the equal-length check (and zips it as []).
        (
            {
                "repeat": {
                    "for_each": {"%a%": ["1", "2"], "%b%": None},
                    "template": "%a%%b%",
                    "permutations": False,
                }
            },
            [],
        ),
        # Keys are text in cool, so only a string value matches one (pinned, see the docs).
        ({"map_replace": [{"a": 1, "b": "1"}, {"values": {"1": "x"}}]}, {"a": 1, "b": "x"}),
        # Heat's port check is int(port): a float port passes, written as it is.
        ({"make_url": {"scheme": "http", "host": "h", "port": 80.5}}, "http://h:80.5"),
        ({"make_url": {"scheme": "http", "host": "h", "port": 8080.0}}, "http://h:8080.0"),
    ],
)
def test_result_at_heats_edges(expression: Any, expected: Any) -> None:
    assert _value(expression) == expected


@pytest.mark.parametrize(
    "port", [0.5, 70000.0, float("inf"), float("nan")], ids=["under", "over", "inf", "nan"]
)
def test_refused_make_url_float_port_out_of_range(port: float) -> None:
    with pytest.raises(hot.ArgumentError) as caught:
        hot.make_url({"host": "h", "port": port}, _budget())
    assert caught.value.path == ("port",)


# -- forms that came with a version (Heat's HOTemplate20151015) --------------------------


def test_get_attr_with_a_resource_name_only_gives_every_attribute_from_liberty() -> None:
    def text(version: str) -> str:
        return (
            f"heat_template_version: {version}\n"
            "resources:\n  r: {type: OS::Heat::TestResource}\n"
            "outputs:\n  o: {value: {get_attr: [r]}}\n"
        )

    new = check(text("2015-10-15"), ResourceTypeRegistry.load(), {})
    assert new.plan is not None
    assert new.plan.outputs[0].value == {"get_attr": ["r"]}  # every attribute but show
    old = check(text("2015-04-30"), ResourceTypeRegistry.load(), {})
    assert [(p.code, p.pointer) for p in old.problems] == [
        (Code.FUNCTION_VERSION, "/outputs/o/value/get_attr")
    ]


def test_list_join_of_several_lists_came_in_liberty() -> None:
    value = {"list_join": [",", ["a"], ["b"]]}
    assert _value(value, "2015-10-15") == "a,b"
    assert _problems(value, "2015-04-30") == [(Code.FUNCTION_VERSION, _O + "/list_join/2")]
    assert _value({"list_join": [",", ["a", "b"]]}, "2013-05-23") == "a,b"
