"""The openstack benchmark's arithmetic, without a cloud: the critical path, the steps
read from a build's events, the callers read from access log lines, and the verdicts.

A run of the benchmark itself (a round builds the multi-tier example twice on
the mini cloud, about two minutes) is not repeated here: the cool half is what
``tests/openstack/test_builds.py`` already builds end to end, and the suite's
time is better spent there. ``python -m bench.openstack --quick`` is the smoke run.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

import pytest

from bench.openstack.baseline import ORDER, RETAINED, schedule
from bench.openstack.cloud import access_caller, claim_seconds, request_shape, step_seconds
from bench.openstack.report import Results, Round, Side, critical_path_s, render, verdicts
from bench.openstack.run import TEMPLATE_PATH
from cool.model import Plan
from cool.resources.registry import ResourceTypeRegistry
from cool.template.compile import compile_template


@pytest.fixture(scope="module")
def plan() -> Plan:
    return compile_template(
        TEMPLATE_PATH.read_text(), ResourceTypeRegistry.load(), {"image": "cirros"}
    )


def test_the_script_makes_every_resource_of_the_template_after_what_it_needs(plan: Plan) -> None:
    assert sorted(ORDER) == sorted(r.name for r in plan.resources)
    position = {name: i for i, name in enumerate(ORDER)}
    for resource in plan.resources:
        assert all(position[need] < position[resource.name] for need in resource.depends_on)
    assert {r.name for r in plan.resources if r.deletion_policy.value == "Retain"} == RETAINED


def test_the_critical_path_follows_dependencies_and_reverses_for_deletes(plan: Plan) -> None:
    steps = dict.fromkeys(ORDER, 1.0)
    # network -> subnet -> db_port -> db -> web -> web_volume_attachment: 6 levels.
    assert critical_path_s(plan, steps) == pytest.approx(6.0)
    assert critical_path_s(plan, steps, reverse=True) == pytest.approx(6.0)
    assert critical_path_s(plan, {**steps, "key": 10.0}) == pytest.approx(13.0)  # key, db, web, ..
    assert critical_path_s(plan, {}) == 0.0


def _event(at: str, resource: str | None, new: str) -> dict[str, object]:
    return {"at": f"2026-12-01T10:00:{at}Z", "resource": resource, "new_status": new}


def test_steps_and_the_claim_are_read_from_the_events() -> None:
    events = [
        _event("00.000", None, "CREATE_QUEUED"),
        _event("00.250", None, "CREATE_IN_PROGRESS"),
        _event("00.500", "net", "CREATE_IN_PROGRESS"),
        _event("01.750", "net", "CREATE_COMPLETE"),
        _event("02.000", "vol", "CREATE_IN_PROGRESS"),
        _event("03.000", "vol", "RETAINED"),
        _event("04.000", None, "CREATE_COMPLETE"),
    ]
    assert step_seconds(events, "CREATE") == pytest.approx({"net": 1.25, "vol": 1.0})
    assert claim_seconds(events, "CREATE") == pytest.approx(0.5)
    assert claim_seconds(events[:2], "CREATE") is None


@pytest.mark.parametrize(
    ("agent", "who"),
    [
        ("cool-bench-member keystoneauth1/5.18.1 python-requests/2.34.2", "baseline"),
        (
            "worker.py openstacksdk/4.22.0 keystoneauth1/5.18.1 python-requests/2.34.2",
            "cool-worker",
        ),
        ("cool/0.1.0 keystonemiddleware.auth_token/13.0.1 keystoneauth1/5.18.1", "cool-api"),
        (
            "nova-compute keystoneauth1/5.18.1 python-requests/2.34.2 CPython/3.11.7",
            "cloud services",
        ),
    ],
)
def test_an_access_log_line_says_who_called(agent: str, who: str) -> None:
    request = '"POST /v2.0/subnets HTTP/1.1" 201 641 "-"'
    assert access_caller(f'127.0.0.1 - - [01/Dec/2026:21:56:01 +0000] {request} "{agent}"') == who


def test_a_line_that_records_no_request_is_no_call() -> None:
    assert access_caller("[2026-12-01 21:56:13 +0000] [15068] [INFO] Handling signal: term") is None


def _side(create_s: float, delete_s: float) -> Side:
    calls = Counter({("neutron", "baseline"): 3, ("neutron", "cool-worker"): 5})
    return Side(create_s, delete_s, {"network": 1.0}, {"network": 0.5}, calls, calls, 0.1, 0.1)


def test_the_verdicts_judge_the_median_ratio_and_report_leaks(plan: Plan) -> None:
    results = Results(workers=2, poll_interval_s=1.0, poll_interval_max_s=5.0, plan=plan)
    results.rounds = [
        Round("baseline", _side(10.0, 10.0), _side(8.0, 13.0)),
        Round("cool", _side(10.0, 10.0), _side(9.0, 11.0)),
        Round("baseline", _side(10.0, 10.0), _side(30.0, 12.0), {"cool": {"volumes": 1}}),
    ]
    said = verdicts(results)
    assert said[0].startswith("create: cool/baseline 0.90 ")
    assert ": met; faster than the sequential script: yes" in said[0]
    assert said[1].startswith("delete: cool/baseline 1.20 ")
    assert ": met; faster than the sequential script: no" in said[1]
    assert said[2] == "leaks: rounds [3] left resources behind (see the table)"
    text = render(results)
    assert "| **median** | | 10.0 | 9.0 | **0.90** | 10.0 | 12.0 | **1.20** | |" in text
    assert "cool: {'volumes': 1}" in text
    assert "| baseline create | 0 | 3 | 0 | 0 | 0 | 3 | 0 |" in text


def test_issue_20s_verdicts_judge_the_critical_path_and_each_neutron_step(plan: Plan) -> None:
    """Each round's build against the critical path of that round's script steps; each
    Neutron step's median against the script's, and, as context, against the parallel
    script's (its steps wait in the same queues of the cloud as cool's; the sequential
    script's each had the cloud to itself)."""
    script_steps = {r.name: 1.0 for r in plan.resources}
    path = critical_path_s(plan, script_steps)
    cool_steps = {**script_steps, "network": 1.4, "security_group": 2.0}
    queued = {**script_steps, "security_group": 1.2}
    results = Results(workers=2, poll_interval_s=1.0, poll_interval_max_s=5.0, plan=plan)
    results.rounds = [
        Round(
            "baseline",
            Side(20.0, 10.0, script_steps, script_steps),
            Side(path * 1.05, 10.0, cool_steps, script_steps),
            parallel=Side(path, 10.0, queued, script_steps),
        ),
    ]
    said = verdicts(results)[3:]
    assert said[0] == (
        "create: cool / the critical path at the script's step times 1.05 "
        "(each round 1.05; target <= 1.1): met"
    )
    assert said[1].startswith("delete: cool / the critical path at the script's step times ")
    assert said[1].endswith("NOT met")
    assert said[2] == (
        "Neutron steps to create within 1.5x of the script's: NOT met (security_group 2.0x)"
    )
    assert said[3] == "Neutron steps to delete within 1.5x of the script's: met"
    assert said[-2:] == [
        "Neutron steps to create within 1.5x of the parallel script's: NOT met "
        "(security_group 1.7x) (context: the same queues)",
        "Neutron steps to delete within 1.5x of the parallel script's: met "
        "(context: the same queues)",
    ]


def test_a_request_is_compared_by_its_shape() -> None:
    line = (
        '127.0.0.1 - - [07/Dec/2026:07:37:53 +0000] "GET /v2.0/ports/'
        'e3f612c8-9826-4fd7-bb43-e46218d0b632?device_id=x&device_owner=y HTTP/1.1" 200 647 '
        '"-" "worker.py keystoneauth1/5.18.1"'
    )
    assert request_shape(line) == "GET /v2.0/ports/{id}?device_id=&device_owner="
    volumes = line.replace("/v2.0/ports/", "/v3/0123456789abcdef0123456789abcdef/volumes/")
    assert request_shape(volumes).startswith("GET /v3/{id}/volumes/{id}?")


def test_the_requests_that_differ_are_listed_one_by_one(plan: Plan) -> None:
    script = _side(10.0, 10.0)
    script.create_shapes = Counter({("baseline", "neutron", "POST /v2.0/networks"): 1})
    cool = _side(9.0, 9.0)
    cool.create_shapes = Counter(
        {
            ("cool-worker", "neutron", "POST /v2.0/networks"): 1,
            ("cool-worker", "neutron", "PUT /v2.0/networks/{id}/tags"): 1,
        }
    )
    results = Results(workers=2, poll_interval_s=1.0, poll_interval_max_s=5.0, plan=plan)
    results.rounds = [Round("baseline", script, cool)]
    text = render(results)
    assert "| create | neutron | `PUT /v2.0/networks/{id}/tags` | 0 | 1 |" in text
    assert "`POST /v2.0/networks`" not in text  # the same on both sides


def test_the_parallel_script_starts_each_step_once_what_it_needs_is_done(plan: Plan) -> None:
    needs = {r.name: set(r.depends_on) for r in plan.resources}
    started: dict[str, float] = {}
    ended: dict[str, float] = {}

    def step(name: str) -> Callable[[], None]:
        def run() -> None:
            started[name] = time.perf_counter()
            time.sleep(0.002)  # a step that takes a moment (no condition to wait for)
            ended[name] = time.perf_counter()

        return run

    steps = {name: step(name) for name in ORDER}
    timings = schedule(steps, needs, 4)

    assert set(timings.steps) == set(ORDER)
    for name, wanted in needs.items():
        for need in wanted:
            assert ended[need] <= started[name], (need, name)
    assert max(started.values()) - min(started.values()) < timings.seconds


def test_the_parallel_script_is_judged_against_the_path_and_against_cool(plan: Plan) -> None:
    steps = {r.name: 1.0 for r in plan.resources}
    path = critical_path_s(plan, steps)
    back = critical_path_s(plan, steps, reverse=True)
    results = Results(workers=2, poll_interval_s=1.0, poll_interval_max_s=5.0, plan=plan)
    results.rounds = [
        Round(
            "parallel",
            Side(20.0, 10.0, steps, steps),
            Side(path * 1.3, back * 1.2, steps, steps),
            parallel=Side(path * 1.2, back * 1.2, steps, steps),
        )
    ]
    said = verdicts(results)[-4:-2]
    assert said[0].startswith("create: the parallel script / the critical path 1.20, cool / ")
    assert "the parallel script 1.08 (medians; context, no target)" in said[0]
    assert said[1].startswith("delete: the parallel script / the critical path 1.20, cool / ")
    assert "| parallel script create s | / critical path | cool / parallel script |" in render(
        results
    )


def test_steps_that_wait_on_one_another_are_refused() -> None:
    with pytest.raises(ValueError, match="wait on one another"):
        schedule({"a": lambda: None, "b": lambda: None}, {"a": {"b"}, "b": {"a"}}, 2)


def test_the_steps_table_gives_the_parallel_scripts_steps_too(plan: Plan) -> None:
    steps = {r.name: 1.0 for r in plan.resources}
    results = Results(workers=2, poll_interval_s=1.0, poll_interval_max_s=5.0, plan=plan)
    results.rounds = [
        Round("parallel", Side(20.0, 10.0, steps, steps), Side(18.0, 9.0, steps, steps),
              parallel=Side(17.0, 8.0, {**steps, "network": 2.5}, steps)),
    ]  # fmt: skip
    table = [line for line in render(results).splitlines() if line.startswith("| network |")]
    assert table == ["| network | 1.00 | 1.00 | 1.00 | 1.00 | 2.50 | 1.00 |"]
