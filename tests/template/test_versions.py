"""HOT versions: every date and release alias Heat knows, and nothing else."""

from __future__ import annotations

import textwrap

import pytest

from cool.resources.registry import ResourceTypeRegistry
from cool.template import versions
from cool.template.compile import check
from cool.template.problems import Code

DATES = [
    "2013-05-23",
    "2014-10-16",
    "2015-04-30",
    "2015-10-15",
    "2016-04-08",
    "2016-10-14",
    "2017-02-24",
    "2017-09-01",
    "2018-03-02",
    "2018-08-31",
    "2021-04-16",
]

ALIASES = {
    "newton": "2016-10-14",
    "ocata": "2017-02-24",
    "pike": "2017-09-01",
    "queens": "2018-03-02",
    "rocky": "2018-08-31",
    "wallaby": "2021-04-16",
}


def test_versions_are_heats_oldest_first() -> None:
    assert list(versions.VERSIONS) == DATES
    assert versions.ALIASES == ALIASES
    assert versions.known() == [*DATES, *ALIASES]


@pytest.mark.parametrize(
    ("version", "date"),
    [
        *(pytest.param(date, date, id=date) for date in DATES),
        *(pytest.param(alias, date, id=alias) for alias, date in ALIASES.items()),
    ],
)
def test_canonical_knows_every_date_and_alias(version: str, date: str) -> None:
    assert versions.canonical(version) == date


@pytest.mark.parametrize(
    "version",
    [
        pytest.param("mitaka", id="alias-before-newton"),
        pytest.param("liberty", id="liberty"),
        pytest.param("juno", id="juno"),
        pytest.param("xena", id="later-release"),
        pytest.param("Wallaby", id="case-sensitive"),
        pytest.param("2019-01-01", id="unknown-date"),
        pytest.param("2018-08-31 ", id="trailing-space"),
        pytest.param("", id="empty"),
        pytest.param(None, id="none"),
        pytest.param(20180831, id="number"),
        pytest.param(["2018-08-31"], id="list"),
    ],
)
def test_canonical_refuses_anything_else(version: object) -> None:
    assert versions.canonical(version) is None


@pytest.mark.parametrize(
    ("line", "date"),
    [
        *(pytest.param(f"heat_template_version: {d}", d, id=f"{d}-unquoted") for d in DATES),
        *(pytest.param(f"heat_template_version: '{d}'", d, id=f"{d}-quoted") for d in DATES),
        *(pytest.param(f"heat_template_version: {a}", d, id=a) for a, d in ALIASES.items()),
    ],
)
def test_versions_every_known_version_compiles(
    line: str, date: str, registry: ResourceTypeRegistry
) -> None:
    text = line + "\nresources:\n  r: {type: OS::Heat::None}\n"
    report = check(text, registry, {})
    assert report.problems == ()
    assert report.plan is not None
    assert report.plan.template_version == date


@pytest.mark.parametrize("date", DATES)
def test_versions_json_template_compiles(date: str, registry: ResourceTypeRegistry) -> None:
    report = check(f'{{"heat_template_version": "{date}"}}', registry, {})
    assert report.problems == ()
    assert report.plan is not None
    assert report.plan.template_version == date


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        pytest.param("heat_template_version: 2019-01-01\n", 1, 1, id="unknown-date"),
        pytest.param("heat_template_version: mitaka\n", 1, 1, id="alias-before-newton"),
        pytest.param("heat_template_version: Wallaby\n", 1, 1, id="alias-case"),
        pytest.param("heat_template_version: 2013\n", 1, 1, id="number"),
        pytest.param("heat_template_version: 2018-08-31T00:00:00\n", 1, 1, id="timestamp"),
        pytest.param("heat_template_version: [2018-08-31]\n", 1, 1, id="list"),
        pytest.param("heat_template_version:\n", 1, 1, id="null"),
        pytest.param(
            textwrap.dedent(
                """\
                # A template.
                description: >
                  Several lines
                  of description.
                heat_template_version: 2099-12-31
                """
            ),
            5,
            1,
            id="after-description",
        ),
        pytest.param('{"heat_template_version": "2099-01-01"}', 1, 2, id="json"),
        pytest.param(
            '{\n  "description": "x",\n    "heat_template_version": "rocky "\n}',
            3,
            5,
            id="json-multiline",
        ),
    ],
)
def test_versions_unknown_version_is_refused_where_written(
    text: str, line: int, column: int, registry: ResourceTypeRegistry
) -> None:
    report = check(text, registry, {})
    assert [(p.code, p.pointer, p.line, p.column) for p in report.problems] == [
        (Code.INVALID_VERSION, "/heat_template_version", line, column)
    ]
    assert report.plan is None


def test_versions_message_lists_known_versions(registry: ResourceTypeRegistry) -> None:
    (problem,) = check("heat_template_version: 2019-01-01\n", registry, {}).problems
    assert "'2019-01-01'" in problem.message
    assert "2018-08-31" in problem.message
    assert "wallaby" in problem.message


def test_versions_missing_version_is_refused_at_the_root(
    registry: ResourceTypeRegistry,
) -> None:
    report = check("description: no version\n", registry, {})
    assert [(p.code, p.pointer, p.line, p.column) for p in report.problems] == [
        (Code.MISSING_VERSION, "", 1, 1)
    ]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("HeatTemplateFormatVersion: '2012-12-12'\n", id="cfn-heat"),
        pytest.param("AWSTemplateFormatVersion: '2010-09-09'\n", id="cfn-aws"),
    ],
)
def test_versions_cloudformation_is_refused_at_the_root(
    text: str, registry: ResourceTypeRegistry
) -> None:
    report = check(text, registry, {})
    where = [(p.code, p.pointer, p.line, p.column) for p in report.problems]
    assert (Code.UNSUPPORTED_FEATURE, "", 1, 1) in where
    assert all(code is not Code.MISSING_VERSION for code, *_ in where)
