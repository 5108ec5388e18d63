"""Properties Heat hides but still accepts: templates in use carry them, so cool
accepts them as Heat does (RandomString's ``sequence``, translated into one more
character class; a server's ``admin_user``, ignored)."""

from __future__ import annotations

from cool.resources.registry import ResourceTypeRegistry
from cool.template.compile import check

HEAD = "heat_template_version: 2015-04-30\nresources:\n"


def _problems(registry: ResourceTypeRegistry, body: str) -> list[tuple[str, str]]:
    report = check(HEAD + body, registry, {})
    return [(p.pointer, p.message) for p in report.problems]


def test_a_random_strings_sequence_is_accepted_and_checked(
    registry: ResourceTypeRegistry,
) -> None:
    body = "  pw:\n    type: OS::Heat::RandomString\n    properties:\n      sequence: {}\n"
    assert _problems(registry, body.format("lettersdigits")) == []
    ((pointer, message),) = _problems(registry, body.format("emoji"))
    assert pointer == "/resources/pw/properties/sequence"
    assert "allowed values" in message


def test_a_servers_admin_user_is_accepted(registry: ResourceTypeRegistry) -> None:
    body = (
        "  s:\n    type: OS::Nova::Server\n    properties:\n"
        "      image: cirros\n      flavor: m1.tiny\n      admin_user: ec2-user\n"
    )
    assert _problems(registry, body) == []
