"""Every route of Heat's API, in one place (paths relative to ``/v1/{project_id}``).

Falcon prefers a literal segment to a field, so ``/stacks/{stack_name}/events`` is
the lookup (a 302) and ``/stacks/{stack_name}/{stack_id}/events`` the events of
the stack the canonical URL names; a field keeps one name at one position.
"""

from __future__ import annotations

import falcon

from cool.api.heat import events, resource_types, resources, stacks, unsupported
from cool.api.heat.identify import LOOKUP_SUBPATHS, StackLookup
from cool.api.services import Services

PREFIX = "/v1/{project_id}"
STACK = PREFIX + "/stacks/{stack_name}/{stack_id}"


def add_routes(app: falcon.App, services: Services) -> None:
    app.add_route(PREFIX + "/stacks/{stack_name}", StackLookup(services))
    for subpath in LOOKUP_SUBPATHS:
        app.add_route(f"{PREFIX}/stacks/{{stack_name}}/{subpath}", StackLookup(services, subpath))
    for path, resource in (*stacks.resources(services), *unsupported.resources(services)):
        app.add_route(PREFIX + path, resource)
    # Events, resources (a nested one's name is a path: web/0/port), resource types.
    app.add_route(STACK + "/events", events.StackEvents(services))
    app.add_route(STACK + "/resources", resources.Resources(services))
    app.add_route(STACK + "/resources/{resource_path:path}", resources.Resource(services))
    app.add_route(PREFIX + "/resource_types", resource_types.ResourceTypes(services))
    app.add_route(PREFIX + "/resource_types/{type_name}", resource_types.ResourceTypeShow(services))
    app.add_route(
        PREFIX + "/resource_types/{type_name}/template",
        resource_types.ResourceTypeTemplate(services),
    )
    app.add_route(PREFIX + "/template_versions", resource_types.TemplateVersions(services))
    app.add_route(
        PREFIX + "/template_versions/{template_version}/functions",
        resource_types.TemplateFunctions(services),
    )
