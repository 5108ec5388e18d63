"""The nouns of cool: what is stored stays readable by old and new code alike."""

from __future__ import annotations

from cool.model import ControlRequest
from cool.store import codec


def test_model_control_requests_keep_their_stored_keys() -> None:
    # A build's control node is {"cancel": {...}, "delete": {...}}: these keys are stored.
    assert {request.value for request in ControlRequest} == {"cancel", "delete"}
    request = {"at": 1.5, "user_id": "u", "request_id": "req-1"}
    written = codec.dumps({ControlRequest.CANCEL: request, ControlRequest.DELETE: request})
    assert written == codec.dumps({"cancel": request, "delete": request})  # as before
    recorded = codec.loads(b'{"delete":{"at":1.5,"request_id":"","user_id":"u"}}')
    assert ControlRequest.DELETE in recorded
    assert ControlRequest.CANCEL not in recorded
