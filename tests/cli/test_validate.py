"""``cool validate`` and ``cool resource-type``, run as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest


def cool(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cool.cli.app", *args],
        input=stdin.decode() if stdin is not None else None,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


BROKEN = textwrap.dedent(
    """\
    heat_template_version: 2013-05-23
    parameters:
      p: {type: number, default: x}
    resources:
      a:
        type: OS::Heat::Value
        properties:
          value: {get_attr: [b, foo]}
          extra: 1
    """
)


@pytest.mark.parametrize(
    ("name", "environment"),
    [
        ("single-server", None),
        ("multi-tier", None),
        ("utility-chain", None),
        ("conditions", None),
        ("web/web", "web/env"),
    ],
)
def test_validate_examples_are_valid(
    examples_dir: Path, name: str, environment: str | None
) -> None:
    extra = ["-e", str(examples_dir / f"{environment}.yaml")] if environment else []
    result = cool("validate", str(examples_dir / f"{name}.yaml"), *extra, "-f", "json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert rows
    levels = [row["Level"] for row in rows]
    assert levels == sorted(levels)
    # Every dependency is on an earlier level.
    level_of = {row["Resource"]: row["Level"] for row in rows}
    for row in rows:
        for dep in filter(None, row["Depends on"].split(", ")):
            assert level_of[dep] < row["Level"]


def test_validate_prints_every_problem_like_a_compiler(tmp_path: Path) -> None:
    template = tmp_path / "broken.yaml"
    template.write_text(BROKEN)
    result = cool("validate", str(template))
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == (
        f"{template}:3:21: cool.parameter.invalid_declaration: default of parameter 'p' "
        "must be a number [/parameters/p/default]"
    )
    assert lines[1] == "    p: {type: number, default: x}"
    assert lines[2] == "  " + " " * 20 + "^"
    assert any(
        line.startswith(
            f"{template}:8:26: cool.template.unknown_resource: get_attr refers to "
            "unknown resource 'b'"
        )
        for line in lines
    )
    assert any(f"{template}:9:7: cool.template.unknown_property:" in line for line in lines)
    assert lines[-1].endswith(f"{template}: 3 problems found")


def test_validate_reads_standard_input() -> None:
    result = cool(
        "validate",
        "-",
        "-f",
        "value",
        stdin=BROKEN.replace("x}", "3}")
        .encode()
        .replace(b"{get_attr: [b, foo]}", b"v")
        .replace(b"      extra: 1\n", b""),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["0", "a", "OS::Heat::Value"]


def test_validate_parameters_from_options_and_files(tmp_path: Path) -> None:
    template = tmp_path / "t.yaml"
    template.write_text(
        textwrap.dedent(
            """\
            heat_template_version: wallaby
            parameters:
              size: {type: number, constraints: [{range: {min: 1, max: 10}}]}
              name: {type: string}
            resources:
              v:
                type: OS::Heat::Value
                properties:
                  value: {list_join: ['-', [{get_param: name}, {get_param: size}]]}
            """
        )
    )
    missing = cool("validate", str(template))
    assert missing.returncode == 0
    assert "parameters that need values to build: size, name" in missing.stderr

    values = tmp_path / "values.yaml"
    values.write_text("parameters:\n  size: 3\n")
    good = cool("validate", str(template), "--parameter-file", str(values), "-P", "name=web")
    assert good.returncode == 0, good.stderr

    bad = cool("validate", str(template), "-P", "size=30", "-P", "name=web")
    assert bad.returncode == 1
    assert "cool.parameter.constraint_violated: value of parameter 'size'" in bad.stderr

    absent = cool("validate", str(template), "-P", "size=3")
    assert absent.returncode == 1
    assert "cool.parameter.missing_value: parameter 'name' needs a value" in absent.stderr


def test_validate_sample_values_compiles_the_whole_plan(tmp_path: Path) -> None:
    template = tmp_path / "t.yaml"
    template.write_text(
        "heat_template_version: wallaby\n"
        "parameters:\n"
        "  pw: {type: string, hidden: true, constraints: [{length: {min: 8}},"
        " {allowed_pattern: '[A-Z].*[0-9]'}]}\n"
        "resources:\n"
        "  v: {type: OS::Heat::Value, properties: {value: {get_param: pw}}}\n"
    )
    result = cool("validate", str(template), "--sample-values", "-f", "value")
    assert result.returncode == 0, result.stderr
    assert "need values" not in result.stderr


def test_validate_sample_values_fill_what_parameters_given_with_p_leave_out(
    tmp_path: Path,
) -> None:
    template = tmp_path / "t.yaml"
    template.write_text(
        "heat_template_version: 2018-08-31\n"
        "parameters:\n  a: {type: string}\n  b: {type: string}\n"
        "resources:\n"
        "  v: {type: OS::Heat::Value, properties: {value: {list_join: ['-', "
        "[{get_param: a}, {get_param: b}]]}}}\n"
    )
    without = cool("validate", str(template), "-P", "a=x")
    assert without.returncode != 0
    assert "parameter 'b' needs a value" in without.stderr
    result = cool("validate", str(template), "-P", "a=x", "--sample-values", "-f", "value")
    assert result.returncode == 0, result.stderr


def test_validate_shows_a_nested_templates_problem_in_its_own_file(tmp_path: Path) -> None:
    (tmp_path / "child.yaml").write_text(
        "heat_template_version: 2018-08-31\nresources:\n  s:\n"
        "    type: OS::Heat::Value\n    properties:\n      value: 1\n"
        "      bogus_property: 1\n"
    )
    parent = tmp_path / "parent.yaml"
    parent.write_text(
        "heat_template_version: 2018-08-31\nresources:\n  child:\n    type: child.yaml\n"
        "  other:\n    type: OS::Heat::Value\n    properties:\n      value: line 8\n"
    )
    result = cool("validate", str(parent))
    assert result.returncode != 0
    assert "child.yaml:7:7: cool.template.unknown_property" in result.stderr, result.stderr
    assert "bogus_property: 1" in result.stderr  # the child's line, not the parent's
    assert "value: line 8" not in result.stderr


def test_validate_missing_file_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    result = cool("validate", str(tmp_path / "nope.yaml"))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "cannot read" in result.stderr


def test_validate_refuses_oversized_template_before_parsing(tmp_path: Path) -> None:
    template = tmp_path / "big.yaml"
    template.write_text("heat_template_version: wallaby\n" + "#" * (600 * 1024) + "\n")
    result = cool("validate", str(template))
    assert result.returncode == 1
    assert "cool.template.too_large" in result.stderr


def test_resource_type_list_includes_every_declared_type() -> None:
    result = cool("resource-type", "list", "-f", "json")
    assert result.returncode == 0, result.stderr
    names = {row["Resource Type"] for row in json.loads(result.stdout)}
    assert {
        "OS::Neutron::Net",
        "OS::Neutron::Subnet",
        "OS::Neutron::Router",
        "OS::Neutron::RouterInterface",
        "OS::Neutron::Port",
        "OS::Neutron::SecurityGroup",
        "OS::Neutron::FloatingIP",
        "OS::Nova::Server",
        "OS::Nova::KeyPair",
        "OS::Cinder::Volume",
        "OS::Cinder::VolumeAttachment",
        "OS::Heat::None",
        "OS::Heat::Value",
        "OS::Heat::RandomString",
        "OS::Heat::TestResource",
    } <= names


def test_resource_type_show_as_json_and_table() -> None:
    result = cool("resource-type", "show", "OS::Heat::RandomString", "-f", "json")
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["resource_type"] == "OS::Heat::RandomString"
    assert shown["properties"]["length"] == {
        "type": "Integer",
        "description": "Length of the string.",
        "required": False,
        "update_allowed": False,
        "immutable": False,
        "default": 32,
        "constraints": [{"range": {"min": 1, "max": 512}}],
    }
    assert shown["attributes"]["value"]["type"] == "String"
    table = cool("resource-type", "show", "OS::Heat::RandomString")
    assert table.returncode == 0
    assert "length (Integer) [default 32" in table.stdout


def test_resource_type_show_unknown_suggests_a_name() -> None:
    result = cool("resource-type", "show", "OS::Nova::Servr")
    assert result.returncode == 1
    assert "did you mean 'OS::Nova::Server'?" in result.stderr
    assert "Traceback" not in result.stderr


def test_resource_type_show_says_what_test_resource_fail_does() -> None:
    """``fail`` fails the create only: a delete succeeds, so a failed build rolls back
    (what the heat provider does: tests/clouds/test_heat.py)."""
    result = cool("resource-type", "show", "OS::Heat::TestResource", "-f", "json")
    assert result.returncode == 0, result.stderr
    described = json.loads(result.stdout)["properties"]["fail"]["description"]
    assert "delete succeeds" in described
    assert "and delete" not in described
