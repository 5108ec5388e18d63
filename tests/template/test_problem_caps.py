"""Error text is bounded like resolved values are (issue 15, finding 2, second part).

A reviewer found the budget's blow-up again through problems: a 295 KB
template with a json parameter of 20,000 keys and 1,000 ``get_param: [p,
nope]`` made 2,001 problems holding 160 MB of messages, each listing every
key. Now: a listing names a few keys and a count, user values are quoted
shortened, a validation reports at most MAX_PROBLEMS problems and then one
that counts the rest, and suggestions cost the same however many choices.
"""

from __future__ import annotations

from cool.resources.registry import ResourceTypeRegistry
from cool.template import functions as fn
from cool.template.compile import Report, check
from cool.template.problems import MAX_PROBLEMS, Code
from cool.template.quoting import MAX_LISTED, MAX_QUOTED, listing, quote
from tests.template.measuring import measured

HEAD = "heat_template_version: 2018-08-31\n"
PEAK = 16 * 1024 * 1024  # traced memory while validating any template below


def _many_keys_template(keys: int = 20_000, references: int = 1000) -> str:
    """The reviewer's template: one json parameter, many bad paths into it."""
    default = ", ".join(f"k{i:05}: {i}" for i in range(keys))
    outputs = "".join(f"  o{i}: {{value: {{get_param: [p, nope]}}}}\n" for i in range(references))
    return f"{HEAD}parameters:\n  p:\n    type: json\n    default: {{{default}}}\n" + (
        f"outputs:\n{outputs}"
    )


def _assert_capped(report: Report, code: Code) -> None:
    problems = report.problems
    assert len(problems) == MAX_PROBLEMS + 1
    assert all(p.code is code for p in problems[:-1])
    last = problems[-1]
    assert last.code is Code.TOO_MANY_PROBLEMS
    # Every problem is located, the last one where the first one not shown is.
    assert all(p.pointer and p.line and p.column for p in problems)


def test_many_bad_paths_into_a_big_mapping_are_bounded(registry: ResourceTypeRegistry) -> None:
    """A get_param path that leads nowhere gives '' as in Heat (no problem, so no key
    listing at all); the reviewer's template stays small and fast."""
    text = _many_keys_template()
    assert len(text) > 250_000
    report, elapsed, peak = measured(lambda: check(text, registry, {}))
    assert report.problems == ()
    assert report.plan is not None
    assert {output.value for output in report.plan.outputs} == {""}
    assert peak < PEAK, f"{peak / 1e6:.1f} MB"
    assert elapsed < 20  # generous: the machine is shared; it was 1.6 s with 160 MB


def test_the_count_of_problems_not_shown_is_exact(registry: ResourceTypeRegistry) -> None:
    resources = "".join(
        f"  r{i}: {{type: OS::Heat::Value, properties: {{value: 1}}, nope: 1}}\n"
        for i in range(250)
    )
    report = check(f"{HEAD}resources:\n{resources}", registry)
    assert len(report.problems) == MAX_PROBLEMS + 1
    assert report.problems[-1].message == f"{250 - MAX_PROBLEMS} more problems not shown"
    assert report.problems[-1].pointer == f"/resources/r{MAX_PROBLEMS}/nope"


def test_a_template_with_exactly_the_cap_shows_them_all(registry: ResourceTypeRegistry) -> None:
    resources = "".join(
        f"  r{i}: {{type: OS::Heat::Value, properties: {{value: 1}}, nope: 1}}\n"
        for i in range(MAX_PROBLEMS)
    )
    report = check(f"{HEAD}resources:\n{resources}", registry)
    assert len(report.problems) == MAX_PROBLEMS
    assert all(p.code is Code.UNKNOWN_KEY for p in report.problems)


def test_parse_problems_are_capped_too(registry: ResourceTypeRegistry) -> None:
    keys = "".join(f"  k{i}: !x {i}\n" for i in range(5000))
    report, _, peak = measured(lambda: check(f"{HEAD}description: x\nmetadata:\n{keys}", registry))
    assert len(report.problems) == MAX_PROBLEMS + 1
    assert all(p.code is Code.YAML_TAG for p in report.problems[:-1])
    assert report.problems[-1].message == f"{5000 - MAX_PROBLEMS:,} more problems not shown"
    assert peak < PEAK


def test_long_user_values_are_quoted_shortened(registry: ResourceTypeRegistry) -> None:
    name = "x" * 200_000  # JSON: YAML's plain keys stop at 1,024 characters
    text = f'{{"heat_template_version": "2018-08-31", "{name}": 1}}'
    report, _, peak = measured(lambda: check(text, registry))
    (problem,) = report.problems
    assert problem.code is Code.UNKNOWN_SECTION
    assert len(problem.message) < 2 * MAX_QUOTED + 200
    assert "…" in problem.message
    assert peak < PEAK


def test_suggestions_over_many_choices_are_cheap(registry: ResourceTypeRegistry) -> None:
    """15,000 declared parameters and 300 misspelt references: difflib over all of
    them for each reference took minutes."""
    declared = "".join(f"  p{i:05}: {{type: string}}\n" for i in range(15_000))
    outputs = "".join(f"  o{i}: {{value: {{get_param: q{i:05}}}}}\n" for i in range(300))
    text = f"{HEAD}parameters:\n{declared}outputs:\n{outputs}"
    report, elapsed, peak = measured(lambda: check(text, registry))
    assert len(report.problems) == MAX_PROBLEMS + 1
    assert all(p.code is Code.UNKNOWN_PARAMETER for p in report.problems[:-1])
    # 15,000 declarations weigh what they weigh; the mistakes add little to it.
    _, _, baseline = measured(lambda: check(text.replace(": q", ": p"), registry))
    assert peak < baseline + 2 * 1024 * 1024, f"{peak / 1e6:.1f} MB, {baseline / 1e6:.1f} MB"
    assert elapsed < 20  # generous; unbounded, this took minutes


def test_a_close_name_is_still_suggested(registry: ResourceTypeRegistry) -> None:
    declared = "".join(f"  p{i:05}: {{type: string}}\n" for i in range(15_000))
    text = f"{HEAD}parameters:\n{declared}  flavor: {{type: string, default: x}}\n" + (
        "outputs:\n  o: {value: {get_param: flavour}}\n"
    )
    (problem,) = check(text, registry).problems
    assert problem.message.endswith("did you mean 'flavor'?")


def test_quote_and_listing() -> None:
    assert quote("web") == "'web'"
    long = quote("a" * 10_000)
    assert len(long) <= MAX_QUOTED + 10
    assert long.startswith("'aaa")
    assert "…" in long
    assert listing([]) == "none"
    assert listing(["b", "a"]) == "a, b"
    assert listing(map(str, range(1000)), limit=3) == "0, 1, 10, and 997 more"


def test_run_time_path_errors_list_a_few_keys() -> None:
    """functions.follow is also what the worker's notes say."""
    value = {f"k{i:05}": i for i in range(20_000)}
    try:
        fn.follow(value, ["nope"])
    except fn.PathError as exc:
        message = str(exc)
    assert len(message) < 1000
    assert message.endswith(f"and {20_000 - MAX_LISTED:,} more)")
