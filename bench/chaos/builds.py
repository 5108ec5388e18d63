"""The chaos run's builds: a seeded mix of templates and what each should end as.

Shapes: ``small`` (4 sim resources and a short TestResource), ``medium``
(examples/multi-tier.yaml, 16 resources), ``large`` (40-60 resources: a network,
a router and tiers of port + server + volume + attachment). Kinds:

- ``normal``: ends ``CREATE_COMPLETE``;
- ``fail``: fails on purpose, by an ``OS::Heat::TestResource`` with ``fail: true``
  or by a sim switch that sends every ``doomed_volume`` to ERROR; ends
  ``ROLLBACK_COMPLETE``, or ``CREATE_FAILED`` when submitted with ``rollback: false``;
- ``cancel`` (medium or large): cancelled once in progress; ends ``CANCEL_COMPLETE``, or
  ``CREATE_COMPLETE`` when it completed first (counted apart);
- ``delete``: deleted once complete; ends ``DELETE_COMPLETE``.

Everything about a build is drawn from the seed before the run starts, so a
seed names one mix.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
DOOMED = "doomed_volume"  # the sim switch the run arms fails this name's creates

_SMALL = """\
heat_template_version: 2021-04-16
resources:
  net: {type: OS::Neutron::Net}
  subnet: {type: OS::Neutron::Subnet, properties: {network: {get_resource: net}, cidr: 10.1.0.0/24}}
  sg: {type: OS::Neutron::SecurityGroup}
  volume: {type: OS::Cinder::Volume, properties: {size: 1}}
  pause: {type: OS::Heat::TestResource, properties: {wait_secs: %(wait)s}, depends_on: subnet}
"""

_TIER = """\
  port{i}:
    type: OS::Neutron::Port
    properties: {{network: {{get_resource: net}}, fixed_ips: [{{subnet: {{get_resource: subnet}}}}],
                 security_groups: [{{get_resource: sg}}]}}
  server{i}:
    type: OS::Nova::Server
    properties: {{image: cirros, flavor: m1.tiny, networks: [{{port: {{get_resource: port{i}}}}}]}}
  volume{i}: {{type: OS::Cinder::Volume, properties: {{size: 1}}}}
  attach{i}:
    type: OS::Cinder::VolumeAttachment
    properties:
      instance_uuid: {{get_resource: server{i}}}
      volume_id: {{get_resource: volume{i}}}
"""

_LARGE_HEAD = """\
heat_template_version: 2021-04-16
resources:
  net: {type: OS::Neutron::Net}
  subnet: {type: OS::Neutron::Subnet, properties: {network: {get_resource: net}, cidr: 10.2.0.0/16}}
  router: {type: OS::Neutron::Router, properties: {external_gateway_info: {network: public}}}
  router_interface:
    type: OS::Neutron::RouterInterface
    properties: {router: {get_resource: router}, subnet: {get_resource: subnet}}
  sg: {type: OS::Neutron::SecurityGroup}
"""

_FAILING_TEST = """\
  failing:
    type: OS::Heat::TestResource
    properties: {fail: true, wait_secs: %(wait)s}
    depends_on: %(after)s
"""

_FAILING_SIM = f"""\
  {DOOMED}:
    type: OS::Cinder::Volume
    properties: {{size: 1}}
    depends_on: %(after)s
"""


def small(rng: random.Random) -> str:
    return _SMALL % {"wait": round(rng.uniform(1.0, 4.0), 2)}


def medium(_rng: random.Random) -> str:
    return (EXAMPLES / "multi-tier.yaml").read_text()


def large(rng: random.Random) -> str:
    tiers = rng.randint(9, 13)  # 5 + 4 per tier: 41 to 57 resources
    return _LARGE_HEAD + "".join(_TIER.format(i=i) for i in range(tiers))


SHAPES = {"small": small, "medium": medium, "large": large}
AFTER = {"small": "volume", "medium": "web_volume", "large": "volume0"}


def failing(shape: str, template: str, rng: random.Random) -> str:
    """The template with one resource more that fails (after others were created)."""
    if rng.random() < 0.5:
        extra = _FAILING_TEST % {"wait": round(rng.uniform(0.5, 2.0), 2), "after": AFTER[shape]}
    else:
        extra = _FAILING_SIM % {"after": AFTER[shape]}
    head, outputs, tail = template.partition("\noutputs:")
    return head.rstrip("\n") + "\n" + extra + outputs + tail


@dataclass(frozen=True, slots=True)
class Mix:
    medium: float = 0.35
    large: float = 0.15  # the rest is small
    fail: float = 0.15
    no_rollback: float = 0.25  # of the failing ones
    cancel: float = 0.10
    delete: float = 0.15


@dataclass(slots=True)
class Build:
    """One build of the run: drawn from the seed, then filled in as it goes."""

    seq: int
    kind: str
    shape: str
    template: str
    rollback: bool
    submit_at_s: float  # after the run's start
    cancel_after_s: float  # once in progress
    build_id: str = ""
    submit_error: str = ""
    action_status: int | None = None  # the answer to its cancel or delete
    action_at: float | None = None
    final: dict[str, object] = field(default_factory=dict)  # the build, read at the end

    @property
    def name(self) -> str:
        return f"chaos-{self.seq:05d}"

    def expected(self) -> frozenset[str]:
        """The final statuses that are right for it."""
        if self.kind == "fail":
            return frozenset({"ROLLBACK_COMPLETE" if self.rollback else "CREATE_FAILED"})
        if self.kind == "cancel":
            return frozenset({"CANCEL_COMPLETE", "CREATE_COMPLETE"})
        if self.kind == "delete":
            return frozenset({"DELETE_COMPLETE"})
        return frozenset({"CREATE_COMPLETE"})


def draw(seed: int, count: int, window_s: float, mix: Mix) -> list[Build]:
    """``count`` builds, submitted evenly over ``window_s`` seconds, from ``seed``."""
    rng = random.Random(seed)
    builds = []
    for seq in range(count):
        r = rng.random()
        shape = "medium" if r < mix.medium else "large" if r < mix.medium + mix.large else "small"
        r = rng.random()
        kind = (
            "fail" if r < mix.fail
            else "cancel" if r < mix.fail + mix.cancel
            else "delete" if r < mix.fail + mix.cancel + mix.delete
            else "normal"
        )  # fmt: skip
        if kind == "cancel" and shape == "small":
            shape = "large"  # a small build is done before a cancel reaches it
        template = SHAPES[shape](rng)
        if kind == "fail":
            template = failing(shape, template, rng)
        rollback = not (kind == "fail" and rng.random() < mix.no_rollback)
        builds.append(
            Build(
                seq=seq,
                kind=kind,
                shape=shape,
                template=template,
                rollback=rollback,
                submit_at_s=window_s * seq / max(count, 1),
                cancel_after_s=rng.uniform(0.1, 1.5),
            )
        )
    return builds
