"""Who the CLI is and where cool is: openstackclient's rules, through openstacksdk's
config loader (``OS_*`` variables, ``clouds.yaml`` and ``--os-cloud``) and a
keystoneauth1 session.

The auth type decides how requests are signed: ``password``, ``token``,
``v3applicationcredential``... against Keystone; ``http_basic`` or ``none``
for a standalone cool-api (both need ``--os-endpoint`` or ``--cool-url``).
The endpoint is ``--cool-url`` (``COOL_URL``) when given, else the cloud's
``orchestration_cool_endpoint_override``, else the auth plugin's own
endpoint, else the Keystone catalog entry of type ``orchestration-cool``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

from cool import __version__
from cool.cli.client import CoolClient
from cool.cli.diagnostics import ReportedError

SERVICE_TYPE = "orchestration-cool"


def add_arguments(parser: argparse.ArgumentParser, argv: Sequence[str]) -> None:
    """openstacksdk's ``--os-*`` options (those of the chosen auth type) and ours.

    A cloud that cannot be loaded (``OS_CLOUD`` naming none in clouds.yaml) does
    not stop offline commands: the error is kept and said when a command connects.
    """
    from openstack import exceptions as os_exceptions  # noqa: PLC0415

    try:
        with _quiet():
            _loader().register_argparse_arguments(parser, list(argv))
    except os_exceptions.ConfigException as exc:
        parser.set_defaults(cool_config_error=str(exc))
        if "--os-cloud" not in parser._option_string_actions:
            parser.add_argument("--os-cloud", metavar="NAME", help="a clouds.yaml entry")
    # cliff parses global options anywhere on the line: openstacksdk's --timeout (one
    # request's, which --cool-timeout is here) would take ``cool submit --timeout MIN``.
    _drop_option(parser, "--timeout")
    parser.add_argument(
        "--cool-url",
        metavar="URL",
        default=os.environ.get("COOL_URL"),
        help="cool-api's URL, overriding the catalog (env COOL_URL)",
    )
    parser.add_argument(
        "--cool-timeout",
        metavar="SECONDS",
        type=_seconds,
        default=os.environ.get("COOL_TIMEOUT", "30"),
        help="how long one request may take, long-polls excepted (env COOL_TIMEOUT)",
    )


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds: {text!r}")
    return value


def _drop_option(parser: argparse.ArgumentParser, option: str) -> None:
    action = parser._option_string_actions.get(option)
    if action is None:
        return
    parser._remove_action(action)
    for group in parser._action_groups:
        if action in group._group_actions:
            group._group_actions.remove(action)
    for name in action.option_strings:
        parser._option_string_actions.pop(name, None)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """openstacksdk warns about its own internals (InfluxDB, statsd): not the user's."""
    from openstack import warnings as os_warnings  # noqa: PLC0415

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", os_warnings.RemovedInSDK60Warning)
        yield


def _loader() -> Any:
    from openstack import config as os_config  # noqa: PLC0415 - 0.7 s, remote commands only

    with _quiet():
        return os_config.OpenStackConfig(app_name="cool", app_version=__version__)


def _standalone(options: argparse.Namespace, argv: Sequence[str]) -> bool:
    """No cloud and no Keystone named anywhere: a cool-api without auth (``none``).
    (openstacksdk defaults the auth type to ``password``: only an explicit one counts.)"""
    return not (
        getattr(options, "os_cloud", None)
        or os.environ.get("OS_AUTH_TYPE")
        or any(a == "--os-auth-type" or a.startswith("--os-auth-type=") for a in argv)
        or getattr(options, "os_auth_url", None)
    )


def connect(options: argparse.Namespace, argv: Sequence[str]) -> CoolClient:
    from keystoneauth1 import exceptions as ks_exceptions  # noqa: PLC0415
    from openstack import exceptions as os_exceptions  # noqa: PLC0415

    if getattr(options, "cool_config_error", None):
        raise ReportedError(f"cannot load the cloud's configuration: {options.cool_config_error}")
    if _standalone(options, argv):
        if not options.cool_url:
            raise ReportedError(
                "no cloud to talk to: set OS_CLOUD (or --os-cloud) to a clouds.yaml entry, "
                "or OS_AUTH_URL and credentials, or --cool-url for a cool-api without auth"
            )
        options.os_auth_type = "none"
        options.os_endpoint = options.cool_url
    try:
        with _quiet():
            region = _loader().get_one(argparse=options)
            session = region.get_session()
        endpoint = options.cool_url or _endpoint(region, session)
    except (os_exceptions.ConfigException, ks_exceptions.ClientException) as exc:
        raise ReportedError(f"cannot authenticate: {exc}") from None
    if not endpoint:
        raise ReportedError(
            f"no {SERVICE_TYPE} endpoint in the catalog of cloud {region.name!r}: "
            "give --cool-url, or orchestration_cool_endpoint_override in clouds.yaml"
        )
    return CoolClient(session, endpoint, timeout_s=options.cool_timeout)


def _endpoint(region: Any, session: Any) -> str | None:
    override = region.get_endpoint(SERVICE_TYPE)
    if override:
        return override
    auth = session.auth
    plugin_endpoint = getattr(auth, "endpoint", None)  # http_basic and none
    if plugin_endpoint:
        return plugin_endpoint
    return session.get_endpoint(
        service_type=SERVICE_TYPE,
        interface=region.get_interface(),
        region_name=region.get_region_name(SERVICE_TYPE),
    )
