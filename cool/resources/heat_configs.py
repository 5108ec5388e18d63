"""Heat's configuration types (OS::Heat::SoftwareConfig, ::StructuredConfig,
::CloudConfig, ::MultipartMime): data that needs no cloud, whose ``config`` feeds a
server's ``user_data`` (``user_data_format: RAW``) or another config's part.
Rendering: cool.clouds.heat_configs. Software deployments, which need an agent in
the server, are not supported (their types are refused by name)."""

from __future__ import annotations

from cool.resources.schema import (
    COMMON_ATTRIBUTES,
    AllowedValues,
    Attribute,
    AttributeType,
    Property,
    PropertyType,
    ResourceType,
)

_GROUP = Property(
    PropertyType.STRING,
    "The tool that runs the configuration on the server (kept; cool runs none).",
    default="Heat::Ungrouped",
)
_IO = {
    "inputs": Property(
        PropertyType.LIST,
        "Inputs of the configuration, for a deployment tool (kept, unused by cool).",
        schema=Property(PropertyType.MAP, "An input."),
    ),
    "outputs": Property(
        PropertyType.LIST,
        "Outputs of the configuration, for a deployment tool (kept, unused by cool).",
        schema=Property(PropertyType.MAP, "An output."),
    ),
    "options": Property(PropertyType.MAP, "Options for the configuration tool (kept)."),
}
_CONFIG_ATTRIBUTES = {
    **COMMON_ATTRIBUTES,
    "config": Attribute("The configuration, as a server receives it.", AttributeType.ANY),
}

SOFTWARE_CONFIG = ResourceType(
    name="OS::Heat::SoftwareConfig",
    description="A configuration script or document; get_resource and the config attribute "
    "give its text (a server's user_data with user_data_format RAW, a MultipartMime part).",
    properties={
        "group": _GROUP,
        "config": Property(PropertyType.STRING, "The configuration."),
        **_IO,
    },
    attributes=_CONFIG_ATTRIBUTES,
    needs_cloud=False,
)

STRUCTURED_CONFIG = ResourceType(
    name="OS::Heat::StructuredConfig",
    description="A configuration as a map (for a deployment tool); config gives it.",
    properties={
        "group": _GROUP,
        # Heat's schema says a map; its own chef example gives a list, serialised alike.
        "config": Property(PropertyType.ANY, "The configuration, as data (serialised to JSON)."),
        **_IO,
    },
    attributes=_CONFIG_ATTRIBUTES,
    needs_cloud=False,
)

CLOUD_CONFIG = ResourceType(
    name="OS::Heat::CloudConfig",
    description="A cloud-init #cloud-config document made from a map, as Heat renders it.",
    properties={"cloud_config": Property(PropertyType.MAP, "The cloud-config data.")},
    attributes=_CONFIG_ATTRIBUTES,
    needs_cloud=False,
)

MULTIPART_MIME = ResourceType(
    name="OS::Heat::MultipartMime",
    description="Several configurations as one MIME multipart message (cloud-init reads "
    "it), rendered with Heat's algorithm.",
    properties={
        "group": _GROUP,
        "parts": Property(
            PropertyType.LIST,
            "The parts, in order.",
            default=[],
            schema=Property(
                PropertyType.MAP,
                "A part.",
                schema={
                    "config": Property(
                        PropertyType.STRING,
                        "Its text (get_resource of another configuration gives its text).",
                        required=True,
                    ),
                    "filename": Property(PropertyType.STRING, "Its file name."),
                    "type": Property(
                        PropertyType.STRING,
                        "text, or multipart to splice another message's parts in.",
                        default="text",
                        constraints=(AllowedValues(("text", "multipart")),),
                    ),
                    "subtype": Property(
                        PropertyType.STRING, "Its MIME subtype (default: the file name's stem)."
                    ),
                },
            ),
        ),
    },
    attributes=_CONFIG_ATTRIBUTES,
    needs_cloud=False,
)

TYPES = (SOFTWARE_CONFIG, STRUCTURED_CONFIG, CLOUD_CONFIG, MULTIPART_MIME)
