"""OS::Heat::WaitConditionHandle and OS::Heat::WaitCondition: a server tells the
build it is ready. Run by the worker's signals provider (cool.worker.signals); the
signals themselves are kept by cool.store.signals, sent to cool-api's capability
URL (the handle's ``endpoint``/``curl_cli``) or to the Heat API's resource signal."""

from __future__ import annotations

from dataclasses import replace

from cool.resources.schema import (
    COMMON_ATTRIBUTES,
    AllowedValues,
    Attribute,
    AttributeType,
    Property,
    PropertyType,
    Range,
    ResourceType,
)

MAX_COUNT = 128  # cool.store.signals.MAX_SIGNALS: what a handle holds (a test checks)

WAIT_CONDITION_HANDLE = ResourceType(
    name="OS::Heat::WaitConditionHandle",
    description="A capability to signal the build from a server: POST a small JSON "
    "(status SUCCESS or FAILURE, reason, data, id) with curl_cli, or to endpoint with "
    "token in X-Auth-Token. Its wait conditions count the signals.",
    properties={
        "signal_transport": Property(
            PropertyType.STRING,
            "How the server signals. cool takes TOKEN_SIGNAL (Heat's default): a POST to "
            "the handle's endpoint with its token.",
            default="TOKEN_SIGNAL",
            constraints=(
                AllowedValues(
                    ("TOKEN_SIGNAL",),
                    "cool signals with a token and an endpoint (TOKEN_SIGNAL, Heat's "
                    "default); CFN_SIGNAL, TEMP_URL_SIGNAL, HEAT_SIGNAL, ZAQAR_SIGNAL and "
                    "NO_SIGNAL need services or users cool does not make",
                ),
            ),
        ),
    },
    attributes={
        **COMMON_ATTRIBUTES,
        "token": Attribute(
            "The token to send in X-Auth-Token (a secret: only this handle's signals).",
            AttributeType.STRING,
        ),
        "endpoint": Attribute("The URL to POST a signal to.", AttributeType.STRING),
        "curl_cli": Attribute(
            "A curl command line that signals the handle; add "
            '--data-binary \'{"status": "SUCCESS"}\' (or FAILURE, with a reason).',
            AttributeType.STRING,
        ),
        "signal": Attribute("null, as in Heat for TOKEN_SIGNAL.", AttributeType.STRING),
    },
    needs_cloud=False,
)

WAIT_CONDITION = ResourceType(
    name="OS::Heat::WaitCondition",
    description="Waits for count SUCCESS signals to its handle: fails at the first "
    "FAILURE (with the server's reason) or after timeout seconds.",
    properties={
        "handle": Property(
            PropertyType.STRING,
            "The handle that signals this wait condition (get_resource of an "
            "OS::Heat::WaitConditionHandle).",
            required=True,
        ),
        "timeout": Property(
            PropertyType.NUMBER,
            "Seconds to wait for the signals.",
            required=True,
            constraints=(Range(1, 43200),),
        ),
        "count": Property(
            PropertyType.INTEGER,
            "How many SUCCESS signals complete the wait.",
            default=1,
            constraints=(Range(1, MAX_COUNT),),
        ),
    },
    attributes={
        **COMMON_ATTRIBUTES,
        "data": Attribute(
            "The signals' data, as JSON: {id: data}.",
            AttributeType.STRING,
        ),
    },
    needs_cloud=False,
)

UPDATE_WAIT_CONDITION_HANDLE = replace(
    WAIT_CONDITION_HANDLE,
    name="OS::Heat::UpdateWaitConditionHandle",
    description="Heat's wait condition handle that a stack update re-keys. cool updates a "
    "build only by resizing a scaling group, which leaves it alone: it is an "
    "OS::Heat::WaitConditionHandle.",
)

CFN_WAIT_CONDITION_HANDLE = ResourceType(
    name="AWS::CloudFormation::WaitConditionHandle",
    description="Heat's AWS wait condition handle: its reference (get_resource) is a URL "
    "a server PUTs a signal to (cfn-signal, or curl -X PUT -H 'Content-Type: "
    "application/json' with a JSON body of Status, "
    "Reason, UniqueId and Data); the URL carries the handle's token, as Heat's pre-signed "
    "URL does.",
    properties={},
    attributes={**COMMON_ATTRIBUTES},
    needs_cloud=False,
)

CFN_WAIT_CONDITION = ResourceType(
    name="AWS::CloudFormation::WaitCondition",
    description="Waits for Count SUCCESS signals to its handle's URL: fails at the first "
    "FAILURE (with the server's reason) or after Timeout seconds.",
    properties={
        "Handle": Property(
            PropertyType.STRING,
            "The handle's URL (get_resource of an AWS::CloudFormation::WaitConditionHandle "
            "of this template).",
            required=True,
        ),
        "Timeout": Property(
            PropertyType.INTEGER,
            "Seconds to wait for the signals.",
            required=True,
            constraints=(Range(1, 43200),),
        ),
        "Count": Property(
            PropertyType.INTEGER,
            "How many SUCCESS signals complete the wait.",
            default=1,
            constraints=(Range(1, MAX_COUNT),),
        ),
    },
    attributes={
        **COMMON_ATTRIBUTES,
        "Data": Attribute("The signals' data, as JSON: {UniqueId: Data}.", AttributeType.STRING),
    },
    needs_cloud=False,
)

TYPES = (
    WAIT_CONDITION_HANDLE,
    UPDATE_WAIT_CONDITION_HANDLE,
    WAIT_CONDITION,
    CFN_WAIT_CONDITION_HANDLE,
    CFN_WAIT_CONDITION,
)
