"""Which requests are Heat's, and Heat's URLs for a stack.

Heat's API lives at ``/v1/{project_id}/...`` beside the native ``/v1/builds``:
falcon prefers a literal path segment to a field, so the native routes keep
their paths (a project whose id were ``builds`` could not use Heat's API;
Keystone's ids are 32 hex digits).
"""

from __future__ import annotations

import re
from urllib.parse import quote

import falcon

# The native API's second path segments: everything else under /v1/ is Heat's, but
# a server's signal to its wait condition handle (cool.api.signals, no Keystone token).
NATIVE = frozenset({"builds", "validate", "workers", "openapi.json"})
SIGNAL_PATH = re.compile(r"/v1/signals/[^/]+/[^/]+/?")


def is_heat_path(path: str) -> bool:
    """``/v1/<project_id>/<something>``: a request for Heat's API (its errors in Heat's
    body). ``/v1/<one segment>`` is neither API's: the native format answers it."""
    if SIGNAL_PATH.fullmatch(path):
        return False  # a server's signal (cool.api.signals), not a project's
    parts = path.split("/", 3)
    return (
        len(parts) == 4
        and parts[1] == "v1"
        and parts[2] not in NATIVE
        and parts[2] != ""
        and parts[3].strip("/") != ""
    )


def stack_url(req: falcon.Request, project_id: str, name: str, stack_id: str) -> str:
    """The canonical, absolute URL of a stack (Heat's HeatIdentifier.url_path on the
    request's host: clients follow it as given, so it must be absolute)."""
    return (
        f"{req.prefix}/v1/{quote(project_id, safe='')}/stacks/"
        f"{quote(name, safe='')}/{quote(stack_id, safe='')}"
    )
