"""A description carrying cool's mark fits the 255 characters Neutron and Cinder take.

A trunk's description of 200-255 characters (which Heat and Neutron accept) got the
mark appended uncut, and Neutron refused the create with a 400 (review of 20).
"""

from __future__ import annotations

from types import SimpleNamespace

from cool.clouds.openstack import identity
from tests.clouds.helpers import ctx


def test_a_long_description_is_cut_so_that_the_mark_fits() -> None:
    step = ctx("trunk", "OS::Neutron::Trunk")
    text = identity.described(step, "d" * 250)
    assert len(text) == 255
    assert text.startswith("d" * 100)
    assert identity.marked(step, text)


def test_a_short_or_missing_description_keeps_its_text_or_is_the_mark() -> None:
    step = ctx("trunk", "OS::Neutron::Trunk")
    assert identity.described(step, "web tier") == f"web tier ({identity.mark(step)})"
    assert identity.described(step, None) == identity.mark(step)
    assert identity.described(step, "") == identity.mark(step)
    assert not identity.marked(ctx("other", "OS::Neutron::Trunk"), identity.described(step, "x"))


def test_a_resource_of_the_build_is_told_by_its_description_or_its_tags() -> None:
    """What a QoS rule's look-up trusts a policy by: the build's mark as the whole
    description or at its end in parentheses; the same text elsewhere in a template's
    own words does not count."""
    step = ctx("policy", "OS::Neutron::QoSPolicy")
    other = ctx("policy", "OS::Neutron::QoSPolicy", build_id="01J0000000000000000000ZZZZ")

    def policy(description: str, tags: tuple[str, ...] = ()) -> SimpleNamespace:
        return SimpleNamespace(description=description, tags=list(tags))

    assert identity.of_build(step, policy(identity.mark(step)))
    assert identity.of_build(step, policy(identity.described(step, "gold tier")))
    assert identity.of_build(step, policy("", (f"cool-build={step.build_id}",)))
    assert not identity.of_build(other, policy(identity.described(step, "gold tier")))
    assert not identity.of_build(step, policy(f"copied from {identity.mark(step)} by hand"))
    assert not identity.of_build(step, policy(""))
