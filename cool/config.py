"""Configuration options, registered in one place and passed down.

Nothing reads the configuration at import time: services build a
``ConfigOpts``, call :func:`register`, parse ``cool.conf`` and hand the
values they need to the objects they create.
"""

from __future__ import annotations

from oslo_config import cfg

from cool.template.parse import Limits

template_group = cfg.OptGroup(
    "template", title="Templates", help="Limits on the templates cool accepts."
)

template_opts = [
    cfg.IntOpt(
        "max_template_size",
        default=512 * 1024,
        min=1024,
        help="Largest template accepted, in bytes of UTF-8 text (Heat's default). Larger "
        "templates are refused before they are parsed.",
    ),
    cfg.IntOpt(
        "max_nesting_depth",
        default=64,
        min=4,
        help="Deepest nesting of mappings and lists a template may have.",
    ),
    cfg.IntOpt(
        "max_template_nodes",
        default=250_000,
        min=100,
        help="Most YAML nodes a template may expand to, counting nodes reached through "
        "aliases; refuses alias bombs such as 'billion laughs' without expanding them.",
    ),
    cfg.IntOpt(
        "max_resources",
        default=1000,
        min=1,
        help="Most resources one template may declare (Heat's max_resources_per_stack).",
    ),
]


def register(conf: cfg.ConfigOpts) -> None:
    conf.register_group(template_group)
    conf.register_opts(template_opts, group=template_group)


def template_limits(conf: cfg.ConfigOpts) -> Limits:
    group = conf.template
    return Limits(
        max_size=group.max_template_size,
        max_depth=group.max_nesting_depth,
        max_nodes=group.max_template_nodes,
        max_resources=group.max_resources,
    )


def list_opts() -> list[tuple[cfg.OptGroup, list[cfg.Opt]]]:
    """For oslo-config-generator (entry point ``oslo.config.opts``: cool)."""
    return [(template_group, template_opts)]
