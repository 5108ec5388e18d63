"""Heat's fault body, checked as heatclient and openstacksdk read it."""

from __future__ import annotations

from typing import Any

from falcon import testing

HELLO = {
    "heat_template_version": "2018-08-31",
    "resources": {"r": {"type": "OS::Heat::TestResource", "properties": {"value": "hi"}}},
    "outputs": {"out": {"value": {"get_attr": ["r", "output"]}}},
}


def fault(result: testing.Result) -> dict[str, Any]:
    """The fault's ``error`` (type, message), after checking the body's shape."""
    body = result.json
    assert isinstance(body, dict), result.text
    assert set(body) == {"code", "title", "explanation", "error"}, body
    assert body["code"] == result.status_code, body
    assert set(body["error"]) == {"type", "message", "traceback"}, body
    assert body["error"]["traceback"] is None
    return body["error"]
