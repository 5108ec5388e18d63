"""The CLI bundles files and environments as python-heatclient does, and builds with them."""

from __future__ import annotations

import json
import textwrap
from ipaddress import ip_address, ip_network
from pathlib import Path

import pytest

from cool.cli.bundle import bundle
from cool.cli.diagnostics import ReportedError
from cool.clouds.sim.provider import SimProvider
from harness.system.local import LocalSystem
from tests.cli.conftest import EXAMPLES, run_cool, run_cool_process


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def test_bundle_reads_get_file_relative_to_the_template_keyed_as_heatclient(
    tmp_path: Path,
) -> None:
    _write(tmp_path / "t" / "scripts" / "boot.sh", "echo hi\n")
    _write(tmp_path / "shared" / "motd.txt", "welcome\n")
    template = _write(
        tmp_path / "t" / "web.yaml",
        """\
        heat_template_version: 2018-08-31
        resources:
          a: {type: OS::Heat::Value, properties: {value: {get_file: scripts/boot.sh}}}
          b:
            type: OS::Heat::Value
            properties:
              value: {get_file: ../shared/motd.txt}
        """,
    )
    bundled = bundle(str(template))
    boot = (tmp_path / "t" / "scripts" / "boot.sh").as_uri()
    motd = (tmp_path / "shared" / "motd.txt").as_uri()
    assert bundled.files == {boot: "echo hi\n", motd: "welcome\n"}
    # The names are rewritten to the keys, in place: every line stays where it was.
    assert f'{{get_file: "{boot}"}}' in bundled.template
    assert bundled.template.count("\n") == bundled.original.count("\n")
    assert "environment_files" not in bundled.fields()


def test_bundle_repeats_environments_in_order_with_their_registry_files(tmp_path: Path) -> None:
    template = _write(tmp_path / "web.yaml", "heat_template_version: 2018-08-31\n")
    first = _write(
        tmp_path / "envs" / "first.yaml",
        """\
        resource_registry:
          My::Thing: nested/thing.yaml
          OS::Networking::Net: OS::Neutron::Net
          resources:
            web:
              OS::Nova::Server: server.yaml
              hooks: pre-create
        """,
    )
    _write(tmp_path / "envs" / "nested" / "thing.yaml", "heat_template_version: 2018-08-31\n")
    _write(tmp_path / "envs" / "server.yaml", "heat_template_version: 2018-08-31\n")
    second = _write(tmp_path / "second.yaml", "parameters: {a: 1}\n")
    bundled = bundle(str(template), [str(first), str(second)])
    assert bundled.environment_files == [first.as_uri(), second.as_uri()]
    assert set(bundled.files) == {
        first.as_uri(),
        second.as_uri(),
        (tmp_path / "envs" / "nested" / "thing.yaml").as_uri(),
        (tmp_path / "envs" / "server.yaml").as_uri(),
    }
    sent = bundled.files[first.as_uri()]
    assert (tmp_path / "envs" / "server.yaml").as_uri() in sent
    assert "OS::Networking::Net: OS::Neutron::Net" in sent  # types are not files
    assert bundled.sources[first.as_uri()] == (str(first), first.read_text())


@pytest.mark.parametrize(
    ("text", "words"),
    [
        pytest.param("{get_file: 'https://example.com/x.sh'}", "never fetches", id="http"),
        pytest.param("{get_file: missing.sh}", "cannot read missing.sh", id="missing"),
    ],
)
def test_bundle_refuses_urls_and_missing_files(tmp_path: Path, text: str, words: str) -> None:
    template = _write(
        tmp_path / "t.yaml",
        f"heat_template_version: 2018-08-31\noutputs:\n  o: {{value: {text}}}\n",
    )
    with pytest.raises(ReportedError, match=words):
        bundle(str(template))


def test_validate_locates_problems_in_the_environment_file(tmp_path: Path) -> None:
    template = _write(tmp_path / "t.yaml", "heat_template_version: 2018-08-31\n")
    env = _write(tmp_path / "env.yaml", "parameters: {}\nevent_sinks: [{type: zaqar-queue}]\n")
    result = run_cool("validate", str(template), "-e", str(env))
    assert result.rc == 1
    assert f"{env}:2:1: cool.template.unsupported_feature: event sinks" in result.err
    assert "  event_sinks: [{type: zaqar-queue}]" in result.err


def test_submit_web_example_with_its_environment_builds_on_the_sim(system: LocalSystem) -> None:
    """The issue's example: a ResourceGroup of nested templates, named in the
    environment, built, shown as a tree, and deleted without a trace in the sim."""
    web = EXAMPLES / "web"
    result = run_cool_process(
        system, "submit", web / "web.yaml", "-e", web / "env.yaml", "--wait", "-f", "json"
    )
    assert result.rc == 0, result.err
    build = json.loads(result.out)
    build_id = build["id"]
    assert build["status"] == "CREATE_COMPLETE"
    resources = run_cool_process(system, "resources", build_id, "-f", "json")
    assert resources.rc == 0, resources.err
    types = {r["Name"]: r["Type"] for r in json.loads(resources.out)}
    assert types == {
        "network": "OS::Neutron::Net",
        "subnet": "OS::Neutron::Subnet",
        "web": "OS::Heat::ResourceGroup",
        "monitor": "OS::Heat::None",
    }

    tree = run_cool_process(system, "resources", build_id, "--nested", "-f", "json")
    assert tree.rc == 0, tree.err
    rows = {r["Name"]: r for r in json.loads(tree.out)}
    members = {"web/0": "web", "web/1": "web"}  # count's default: 2
    inner = {f"{m}/{n}": m for m in members for n in ("port", "server")}
    assert {n: r["Parent"] for n, r in rows.items() if r["Parent"]} == members | inner
    assert {rows[m]["Nested"] for m in members} == {"template"}
    assert rows["web"]["Nested"] == "group"
    assert {r["Status"] for r in rows.values()} == {"CREATE_COMPLETE"}

    outputs = {name: output["value"] for name, output in build["outputs"].items()}
    servers = [rows[f"web/{i}/server"]["Physical ID"] for i in range(2)]
    assert outputs["web_servers"] == servers  # the member template's OS::stack_id
    addresses = outputs["web_ips"]
    assert len(set(addresses)) == 2
    assert all(ip_address(a) in ip_network("10.20.0.0/24") for a in addresses)
    assert outputs["first_web_ip"] == addresses[0]

    with SimProvider(system.directory / "sim.sqlite") as sim:
        built = {r.resource_name: r.properties for r in sim.live_resources(build_id)}
    assert set(built) == {"network", "subnet"} | set(inner)
    for index in range(2):  # the group put each member's index into the get_file'd script
        page = f"Hello from cool, server {index}"
        assert page in built[f"web/{index}/server"]["user_data"]
    deleted = run_cool_process(system, "delete", build_id, "--wait", "-f", "json")
    assert deleted.rc == 0, deleted.err
    assert json.loads(deleted.out)["status"] == "DELETE_COMPLETE"
    with SimProvider(system.directory / "sim.sqlite") as sim:
        assert sim.live_resources(build_id) == []


def test_submit_refusal_in_an_environment_is_shown_in_that_file(
    system: LocalSystem, tmp_path: Path
) -> None:
    env = _write(tmp_path / "env.yaml", "parameters:\n  site_nam: x\n")
    result = run_cool_process(system, "submit", EXAMPLES / "web" / "web.yaml", "-e", env)
    assert result.rc == 1
    assert f"{env}:2:3: cool.parameter.undeclared" in result.err
    assert "Traceback" not in result.err


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_submit_conditions_example_builds_what_its_environment_asks_for(
    system: LocalSystem, environment: str
) -> None:
    result = run_cool_process(
        system,
        "submit",
        EXAMPLES / "conditions.yaml",
        "-P",
        f"environment={environment}",
        "--wait",
        "-f",
        "json",
    )
    assert result.rc == 0, result.err
    build = json.loads(result.out)
    assert build["status"] == "CREATE_COMPLETE"
    resources = run_cool_process(system, "resources", build["id"], "-f", "json")
    assert resources.rc == 0, resources.err
    names = {r["Name"] for r in json.loads(resources.out)}
    prod_only = {"router", "router_interface", "volume", "volume_attachment", "floating_ip"}
    assert names - prod_only == {"network", "subnet", "port", "server"}
    assert names >= prod_only if environment == "prod" else not names & prod_only
    outputs = build["outputs"]
    assert (outputs["volume"]["value"] is None) == (environment == "dev")
    assert outputs["address"]["value"]


def test_bundle_nested_templates_that_name_each_other_are_read_once(tmp_path: Path) -> None:
    template = _write(
        tmp_path / "t.yaml",
        "heat_template_version: 2018-08-31\nresources:\n  a: {type: a.yaml}\n",
    )
    # Templates, as heatclient tells them (a version key): their own names are read too.
    _write(
        tmp_path / "a.yaml", "heat_template_version: 2018-08-31\nresources:\n  b: {type: b.yaml}\n"
    )
    _write(
        tmp_path / "b.yaml", "heat_template_version: 2018-08-31\nresources:\n  a: {type: a.yaml}\n"
    )
    bundled = bundle(str(template))
    a, b = (tmp_path / "a.yaml").as_uri(), (tmp_path / "b.yaml").as_uri()
    assert set(bundled.files) == {a, b}
    assert f'type: "{b}"' in bundled.files[a]
    assert f'type: "{a}"' in bundled.files[b]


def test_bundle_refuses_an_environment_given_twice(tmp_path: Path) -> None:
    template = _write(tmp_path / "t.yaml", "heat_template_version: 2018-08-31\n")
    env = _write(tmp_path / "env.yaml", "parameters: {}\n")
    with pytest.raises(ReportedError, match="given twice"):
        bundle(str(template), [str(env), str(tmp_path / "." / "env.yaml")])


def test_a_yaml_file_that_is_no_template_is_sent_as_it_is(tmp_path: Path) -> None:
    """heatclient's is_template: a get_file of a playbook named .yaml, or a registry
    entry no resource uses, is sent unchanged, not parsed as a template (and a YAML
    error in it is not the bundle's)."""
    playbook = "- hosts: localhost\n  vars:\n  - master: %master%\n"
    _write(tmp_path / "playbook.yaml", playbook)
    _write(tmp_path / "broken.yaml", "a: b: c\n")
    _write(tmp_path / "dated.yaml", "when: 2023-02-30\n")  # PyYAML's ValueError
    _write(
        tmp_path / "env.yaml",
        "resource_registry: {My::Unused: broken.yaml, My::Dated: dated.yaml}\n",
    )
    template = _write(
        tmp_path / "top.yaml",
        """\
        heat_template_version: 2015-10-15
        resources:
          cfg:
            type: OS::Heat::SoftwareConfig
            properties: {config: {get_file: playbook.yaml}}
        """,
    )
    bundled = bundle(str(template), [str(tmp_path / "env.yaml")])
    assert bundled.files[(tmp_path / "playbook.yaml").as_uri()] == playbook
    assert bundled.files[(tmp_path / "broken.yaml").as_uri()] == "a: b: c\n"
    checked = run_cool("validate", str(template), "-e", str(tmp_path / "env.yaml"))
    assert checked.rc == 0, checked.out + checked.err
