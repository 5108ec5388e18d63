"""A nested template missing from the request's files: what the refusal suggests."""

from __future__ import annotations

from cool.resources.registry import ResourceTypeRegistry
from cool.template.compile import check
from cool.template.environment import Source
from cool.template.parse import DEFAULT_LIMITS
from cool.template.problems import Code

TEMPLATE = """\
heat_template_version: 2021-04-16
resources:
  web:
    type: OS::Heat::ResourceGroup
    properties:
      resource_def: {type: Cool::WebServer}
"""
BASE = "file:///home/user/web/"
ENV = f"resource_registry:\n  Cool::WebServer: {BASE}files/web-server.yaml\n"


def test_missing_nested_template_is_not_said_to_be_the_environment_file(
    registry: ResourceTypeRegistry,
) -> None:
    """The environment that names the template is one of the files (as heatclient sends
    it), and its URL is the closest to the missing one's: suggesting it as the nested
    template misleads (found with examples/web sent without files/web-server.yaml)."""
    env_url = BASE + "env.yaml"
    report = check(
        TEMPLATE,
        registry,
        {},
        DEFAULT_LIMITS,
        environments=[Source(env_url, ENV)],
        files={env_url: ENV},
    )
    assert [p.code for p in report.problems] == [Code.MISSING_FILE]
    assert "did you mean" not in report.problems[0].message
    assert "mapped by the environment" in report.problems[0].message
    assert "env.yaml:2:3" in report.problems[0].message  # the registry entry that maps it
