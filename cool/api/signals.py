"""``POST /v1/signals/{build_id}/{handle}``: a server signals a wait condition handle.

No Keystone user is needed inside the server: the handle's token (``X-Auth-Token``) is
a capability for this one handle of this one build, made by the worker, stored hashed
(:mod:`cool.store.signals`), good only while the build is being created. This path
therefore goes around keystonemiddleware (cool.api.app), and everything else about it
is narrow: POST only, a small JSON body, and 404 for a wrong token, an unknown handle
or a build no longer being created, so a guess learns nothing. A scaling policy's
``alarm_url`` is this route too, its token in the query (cool.api.scaling).
"""

from __future__ import annotations

from typing import Any

import falcon

from cool.api import scaling
from cool.api.bodies import media_type, parse_json, read_body
from cool.api.errors import request_id
from cool.api.services import Services
from cool.errors import RequestInvalidError, RequestProblem, SignalNotFoundError
from cool.store.layout import IdInvalidError, is_build_id, resource_name
from cool.store.signals import CFN_HANDLE, MAX_SIGNAL_BYTES, POLICY, Signal, SignalBook

JSON_TYPES = frozenset({"", "application/json", "text/plain"})
MAX_BODY_BYTES = 2 * MAX_SIGNAL_BYTES  # what is read before a signal is refused as too large


def book_of(services: Services) -> SignalBook:
    return SignalBook(services.store.client, services.store.layout)


def signal_body(req: falcon.Request) -> Any:
    """The signal as Heat reads it (its ``is_json_content_type``): JSON when the type is
    JSON, ``text/plain`` (curl -d without -H) or missing; any other type's body is not
    read, and counts as an empty signal (a SUCCESS), as in Heat. An empty body is
    ``{}``, a SUCCESS too."""
    data = read_body(req, MAX_BODY_BYTES)
    kind = media_type(req)
    if not data.strip() or not (kind in JSON_TYPES or kind.endswith("+json")):
        return {}
    return parse_json(data)


_CFN_KEYS = frozenset({"Status", "Reason", "UniqueId", "Data"})


def cfn_signal(body: Any) -> dict[str, Any]:
    """An AWS handle's signal in a wait condition handle's words. Heat takes exactly the
    four keys, a Status of SUCCESS or FAILURE ("Metadata format invalid" otherwise)."""
    if not isinstance(body, dict) or set(body) != _CFN_KEYS:
        raise RequestInvalidError(
            [
                RequestProblem(
                    "cool.signal.invalid",
                    "Metadata format invalid: an AWS handle's signal is a JSON object of "
                    "exactly Status (SUCCESS or FAILURE), Reason, UniqueId and Data, sent "
                    "as JSON (Content-Type application/json, or none: curl -H "
                    "'Content-Type:')",
                    pointer="",
                )
            ]
        )
    # The values as they came: the store checks them as it checks a handle's signal.
    return {
        "status": body["Status"],
        "reason": body["Reason"],
        "id": body["UniqueId"],
        "data": body["Data"],
    }


def shown(signal: Signal) -> dict[str, Any]:
    return {"signal": {"id": signal.id, "status": signal.status, "reason": signal.reason}}


class HandleSignal:
    def __init__(self, services: Services) -> None:
        self.services = services

    def on_post(
        self, req: falcon.Request, resp: falcon.Response, *, build_id: str, handle: str
    ) -> None:
        header = req.get_header("X-Auth-Token")
        # A scaling policy's alarm_url carries its token in the query (nothing else is
        # sent by an alarm); a wait condition handle's token comes in the header only.
        query = req.get_param("token")
        if not (header or query) or not is_build_id(build_id):
            raise SignalNotFoundError("no such wait condition handle")
        try:
            name = resource_name(handle)  # the URL names a nested handle as its znode does
        except IdInvalidError:
            raise SignalNotFoundError("no such wait condition handle") from None
        body = signal_body(req)
        book = book_of(self.services)
        if book.capability(build_id, name, query or header, POLICY):
            outcome = scaling.resize(
                self.services, build_id, name, body, request_id=request_id(req.env)
            )
            resp.media = scaling.shown(outcome)
        elif query and book.capability(build_id, name, query, CFN_HANDLE):
            resp.media = shown(self._cfn(book, build_id, name, body, query))
        else:
            if not header:
                raise SignalNotFoundError("no such wait condition handle")
            resp.media = shown(book.send(build_id, name, body, token=header))
        resp.status = falcon.HTTP_200

    def on_put(
        self, req: falcon.Request, resp: falcon.Response, *, build_id: str, handle: str
    ) -> None:
        """An AWS handle's signal (cfn-signal, or curl -X PUT to its URL), as Heat's
        CloudFormation API takes it: the token in the URL's query."""
        query = req.get_param("token")
        if not query or not is_build_id(build_id):
            raise SignalNotFoundError("no such wait condition handle")
        try:
            name = resource_name(handle)
        except IdInvalidError:
            raise SignalNotFoundError("no such wait condition handle") from None
        body = signal_body(req)
        book = book_of(self.services)
        resp.media = shown(self._cfn(book, build_id, name, body, query))
        resp.status = falcon.HTTP_200

    @staticmethod
    def _cfn(book: SignalBook, build_id: str, name: str, body: Any, token: str) -> Signal:
        return book.send(build_id, name, cfn_signal(body), token=token, kinds=(CFN_HANDLE,))
