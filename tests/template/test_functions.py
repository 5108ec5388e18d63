"""HOT function arithmetic: paths, str_replace, list_join, and run-time resolution."""

from __future__ import annotations

from typing import Any

import pytest

from cool.template import functions as fn

# -- function_name --------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "name"),
    [
        pytest.param({"get_param": "p"}, "get_param", id="get-param"),
        pytest.param({"get_resource": "r"}, "get_resource", id="get-resource"),
        pytest.param({"get_attr": ["r", "a"]}, "get_attr", id="get-attr"),
        pytest.param({"str_replace": {}}, "str_replace", id="str-replace"),
        pytest.param({"list_join": [",", []]}, "list_join", id="list-join"),
        pytest.param({"if": [True, 1, 2]}, "if", id="unsupported-hot"),
        pytest.param({"Fn::Join": []}, "Fn::Join", id="unsupported-cfn"),
        pytest.param({"Ref": "x"}, "Ref", id="cfn-ref"),
        pytest.param({"get_param": "p", "other": 1}, None, id="two-keys-is-data"),
        pytest.param({"name": "x"}, None, id="plain-mapping"),
        pytest.param({}, None, id="empty-mapping"),
        pytest.param(["get_param", "p"], None, id="list"),
        pytest.param("get_param", None, id="string"),
    ],
)
def test_function_name_recognises_calls(value: object, name: str | None) -> None:
    assert fn.function_name(value) == name


# -- follow ---------------------------------------------------------------------

_NESTED = {"a": {"b": [10, {"c": "deep"}]}, "list": ["x", "y", "z"], "n": None}


@pytest.mark.parametrize(
    ("value", "path", "expected"),
    [
        pytest.param(_NESTED, [], _NESTED, id="empty-path"),
        pytest.param(_NESTED, ["a"], {"b": [10, {"c": "deep"}]}, id="key"),
        pytest.param(_NESTED, ["a", "b", 0], 10, id="key-then-index"),
        pytest.param(_NESTED, ["a", "b", "0"], 10, id="string-index"),
        pytest.param(_NESTED, ["a", "b", 1, "c"], "deep", id="index-then-key"),
        pytest.param(_NESTED, ["a", "b", "1", "c"], "deep", id="string-index-then-key"),
        pytest.param(_NESTED, ["list", -1], "z", id="negative-index"),
        pytest.param(_NESTED, ["list", "-3"], "x", id="negative-string-index"),
        pytest.param(_NESTED, ["n"], None, id="null-value"),
        pytest.param([[1, 2], [3, 4]], [1, 0], 3, id="list-of-lists"),
    ],
)
def test_follow_walks_keys_and_indexes(value: Any, path: list[Any], expected: Any) -> None:
    assert fn.follow(value, path) == expected


@pytest.mark.parametrize(
    ("value", "path", "index", "message"),
    [
        pytest.param(_NESTED, ["nope"], 0, "key 'nope' not found (keys: a, list, n)", id="key"),
        pytest.param(_NESTED, ["a", "x"], 1, "key 'x' not found (keys: b)", id="nested-key"),
        pytest.param({}, ["x"], 0, "key 'x' not found (keys: none)", id="empty-mapping"),
        pytest.param(
            _NESTED, [0], 0, "key 0 must be a string to index a mapping", id="int-on-mapping"
        ),
        pytest.param(
            _NESTED, ["list", 3], 1, "index 3 is out of range for 3 items", id="out-of-range"
        ),
        pytest.param(
            _NESTED, ["list", "-4"], 1, "index -4 is out of range for 3 items", id="negative-range"
        ),
        pytest.param(_NESTED, ["list", "one"], 1, "'one' is not a list index", id="word-index"),
        pytest.param(_NESTED, ["list", "1.0"], 1, "'1.0' is not a list index", id="float-text"),
        pytest.param(_NESTED, ["list", True], 1, "True is not a list index", id="bool-index"),
        pytest.param(
            _NESTED, ["a", "b", 1, "c", 0], 4, "cannot index str value with 0", id="into-string"
        ),
        pytest.param(_NESTED, ["n", "x"], 1, "cannot index NoneType value with 'x'", id="null"),
        pytest.param(5, ["x"], 0, "cannot index int value with 'x'", id="into-number"),
    ],
)
def test_follow_reports_the_failing_step(
    value: Any, path: list[Any], index: int, message: str
) -> None:
    with pytest.raises(fn.PathError) as info:
        fn.follow(value, path)
    assert info.value.index == index
    assert str(info.value) == message
    assert isinstance(info.value, ValueError)


# -- stringify, replace, join -------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        pytest.param("s", "s", id="string"),
        pytest.param("", "", id="empty-string"),
        pytest.param(None, "", id="none"),
        pytest.param(3, "3", id="int"),
        pytest.param(-2.5, "-2.5", id="float"),
        pytest.param([1, "a"], '[1, "a"]', id="list-as-json"),
        pytest.param({"b": 1, "a": [2]}, '{"a": [2], "b": 1}', id="dict-as-sorted-json"),
        pytest.param([], "[]", id="empty-list"),
        pytest.param({}, "{}", id="empty-dict"),
    ],
)
def test_stringify_turns_values_into_text(value: Any, text: str) -> None:
    assert fn.stringify(value) == text


def test_stringify_refuses_other_types() -> None:
    with pytest.raises(TypeError):
        fn.stringify(object())


@pytest.mark.parametrize(
    ("template", "params", "expected"),
    [
        pytest.param("hello $who", {"$who": "world"}, "hello world", id="one-key"),
        pytest.param("a-a-a", {"a": "b"}, "b-b-b", id="every-occurrence"),
        pytest.param("no keys here", {"$x": "y"}, "no keys here", id="absent-key"),
        pytest.param("unchanged", {}, "unchanged", id="no-params"),
        pytest.param("$a $ab", {"$a": "1", "$ab": "2"}, "1 2", id="longest-key-first"),
        pytest.param("$ab $a", {"$ab": "2", "$a": "1"}, "2 1", id="longest-key-first-any-order"),
        pytest.param("x", {"x": "y", "y": "z"}, "y", id="single-pass"),
        pytest.param("%a%b", {"%a": "%b", "%b": "!"}, "%b!", id="replaced-text-not-rescanned"),
        pytest.param("a.b*c", {".": "+", "*": "?"}, "a+b?c", id="regex-characters-literal"),
        pytest.param("port=$p", {"$p": 80}, "port=80", id="int"),
        pytest.param("ratio=$r", {"$r": 0.5}, "ratio=0.5", id="float"),
        pytest.param("list=$l", {"$l": [1, "a"]}, 'list=[1, "a"]', id="list-as-json"),
        pytest.param("map=$m", {"$m": {"b": 2, "a": 1}}, 'map={"a": 1, "b": 2}', id="dict-json"),
        pytest.param("[$n]", {"$n": None}, "[]", id="none-is-empty"),
        # Heat (ReplaceJson) substitutes six.text_type(value): True -> "True".
        pytest.param("on=$b", {"$b": True}, "on=True", id="bool-as-heat"),
        # Heat splits on the longest key over the whole text first, so "bcd"
        # wins even though "ab" starts earlier.
        pytest.param("abcd", {"ab": "1", "bcd": "2"}, "a2", id="longest-key-wins-overlap"),
        # Keys of equal length: the lexicographically smaller one first (Heat).
        pytest.param("abc", {"bc": "2", "ab": "1"}, "1c", id="equal-length-smaller-first"),
    ],
)
def test_replace_substitutes_like_heat(
    template: str, params: dict[str, Any], expected: str
) -> None:
    assert fn.replace(template, params) == expected


@pytest.mark.parametrize(
    ("delimiter", "lists", "expected"),
    [
        pytest.param(",", [["a", "b", "c"]], "a,b,c", id="one-list"),
        pytest.param(", ", [["a"], ["b", "c"]], "a, b, c", id="several-lists"),
        pytest.param("-", [[], ["a"], []], "a", id="empty-lists"),
        pytest.param(",", [[]], "", id="nothing"),
        pytest.param("", [["a", "b"]], "ab", id="empty-delimiter"),
        pytest.param(",", [["a", None, "b"]], "a,,b", id="none-is-empty"),
        pytest.param(" ", [[1, 2.5]], "1 2.5", id="numbers"),
        pytest.param(";", [[{"b": 1, "a": 2}, [1]]], '{"a": 2, "b": 1};[1]', id="json-items"),
    ],
)
def test_join_joins_every_list(delimiter: str, lists: list[list[Any]], expected: str) -> None:
    assert fn.join(delimiter, lists) == expected


# -- resolve ----------------------------------------------------------------------

_IDS = {"net": "net-id-1", "server": "server-id-2"}
_ATTRS = {
    ("server", "networks"): {"private": ["10.0.0.5", "fd00::5"]},
    ("server", "name"): "web-1",
    ("net", "subnets"): ["subnet-a", "subnet-b"],
}
_PSEUDO = {"OS::stack_name": "my-build", "OS::stack_id": "b-123"}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        pytest.param("plain", "plain", id="scalar"),
        pytest.param({"a": [1, {"b": None}]}, {"a": [1, {"b": None}]}, id="plain-data"),
        pytest.param({"get_resource": "net"}, "net-id-1", id="get-resource"),
        pytest.param({"get_attr": ["server", "name"]}, "web-1", id="get-attr"),
        pytest.param(
            {"get_attr": ["server", "networks", "private", 0]}, "10.0.0.5", id="get-attr-path"
        ),
        pytest.param(
            {"get_attr": ["server", "networks", "private", "1"]},
            "fd00::5",
            id="get-attr-path-string-index",
        ),
        pytest.param({"get_param": "OS::stack_name"}, "my-build", id="pseudo-parameter"),
        pytest.param({"get_param": ["OS::stack_id"]}, "b-123", id="pseudo-parameter-list"),
        pytest.param(
            {
                "str_replace": {
                    "template": "$s on $n",
                    "params": {"$s": {"get_resource": "server"}, "$n": {"get_resource": "net"}},
                }
            },
            "server-id-2 on net-id-1",
            id="str-replace-of-references",
        ),
        pytest.param(
            {
                "str_replace": {
                    "template": "nets=$l",
                    "params": {"$l": {"get_attr": ["net", "subnets"]}},
                }
            },
            'nets=["subnet-a", "subnet-b"]',
            id="str-replace-list-as-json",
        ),
        pytest.param(
            {"list_join": [",", {"get_attr": ["net", "subnets"]}, ["x"]]},
            "subnet-a,subnet-b,x",
            id="list-join-of-attribute",
        ),
        pytest.param(
            {"list_join": [{"get_param": "OS::stack_name"}, ["a", "b"]]},
            "amy-buildb",
            id="list-join-computed-delimiter",
        ),
        pytest.param(
            {"props": [{"id": {"get_resource": "net"}}, {"get_attr": ["server", "name"]}]},
            {"props": [{"id": "net-id-1"}, "web-1"]},
            id="nested-in-data",
        ),
        pytest.param(
            {"get_attr": [{"get_param": "OS::stack_name"}, "name"]},
            ("my-build", "name"),
            id="arguments-resolved-first",
        ),
        pytest.param(
            {"get_resource": "net", "other": 1},
            {"get_resource": "net", "other": 1},
            id="two-key-mapping-is-data",
        ),
    ],
)
def test_resolve_evaluates_with_callbacks(expression: Any, expected: Any) -> None:
    def get_attr(name: str, attribute: str) -> Any:
        # Unknown pairs come back as themselves, to show what was asked for.
        return _ATTRS.get((name, attribute), (name, attribute))

    result = fn.resolve(
        expression, get_resource=_IDS.__getitem__, get_attr=get_attr, pseudo=_PSEUDO
    )
    assert result == expected


def test_resolve_does_not_change_its_input() -> None:
    expression = {"a": [{"get_resource": "net"}]}
    fn.resolve(expression, get_resource=_IDS.__getitem__, get_attr=lambda r, a: None, pseudo={})
    assert expression == {"a": [{"get_resource": "net"}]}


def test_resolve_reports_bad_attribute_path_with_index() -> None:
    with pytest.raises(fn.PathError) as info:
        fn.resolve(
            {"get_attr": ["server", "networks", "public", 0]},
            get_resource=_IDS.__getitem__,
            get_attr=lambda r, a: _ATTRS[(r, a)],
            pseudo=_PSEUDO,
        )
    assert info.value.index == 0
    assert "key 'public' not found" in str(info.value)


@pytest.mark.parametrize(
    "expression",
    [
        pytest.param({"if": [True, 1, 2]}, id="hot"),
        pytest.param({"Fn::GetAZs": ""}, id="cfn"),
    ],
)
def test_resolve_refuses_unsupported_functions(expression: Any) -> None:
    with pytest.raises(ValueError, match="cannot be evaluated"):
        fn.resolve(expression, get_resource=_IDS.__getitem__, get_attr=lambda r, a: 0, pseudo={})


def test_function_tables_are_disjoint() -> None:
    assert not fn.SUPPORTED & fn.UNSUPPORTED
    assert set(fn.PSEUDO_PARAMETERS) == {"OS::stack_name", "OS::stack_id", "OS::project_id"}
