"""What a record writes: every field, as ``asdict`` would give it (values are not copied
any more), and read back to the same record. Pure: no server."""

from __future__ import annotations

import json
from dataclasses import asdict

from cool.model import BuildStatus, ResourceStatus
from cool.store import codec
from cool.store.records import BuildState, Event, ResourceRecord


def test_each_record_writes_every_field_and_reads_back_the_same() -> None:
    record = ResourceRecord(
        "web/0/server", "OS::Nova::Server", ResourceStatus.CREATE_COMPLETE,
        physical_id="p1", attributes={"networks": {"private": ["10.0.0.5"]}}, attempts=2,
        worker="w1", updated_at=1.5, sole=True,
    )  # fmt: skip
    state = BuildState(
        BuildStatus.UPDATE_IN_PROGRESS, reason="resizing", note={"error": "x"}, done=3,
        total=5, outputs={"ip": {"value": "10.0.0.5"}}, updated_at=2.0, plan_version=2,
        scaling={"asg": {"next": 4}}, update={"group": "asg"}, claims_before=1,
    )  # fmt: skip
    event = Event(3.0, "web", "CREATE_IN_PROGRESS", "CREATE_COMPLETE", "created", "w1", "req")
    for item in (record, state, event):
        written = item.to_dict()
        expected = asdict(item) | ({"status": str(item.status)} if "status" in written else {})
        assert written == expected
        assert type(item).from_dict(json.loads(codec.dumps(written))) == item
    # Absent is the default: records and states from before those fields read the same.
    plain = ResourceRecord("a", "OS::Heat::None", ResourceStatus.PENDING)
    assert "sole" not in plain.to_dict()
    assert not {"plan_version", "scaling", "update", "claims_before"} & set(
        BuildState(BuildStatus.CREATE_QUEUED).to_dict()
    )
