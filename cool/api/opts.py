"""Defaults cool-api wants for its libraries' options.

Kept out of :mod:`cool.config` so that only the API imports keystonemiddleware
and oslo.middleware (importing keystonemiddleware alone takes ~0.7 s, which
every cool-worker start would pay).
"""

from __future__ import annotations

from keystonemiddleware.auth_token import _opts as auth_token_opts
from oslo_config import cfg
from oslo_middleware import sizelimit

from cool import config

# A JSON body carries a template of up to [template] max_template_size, escaped
# inside a string: oslo.middleware's 112 KiB default is too small.
MAX_REQUEST_BODY_SIZE = 2 * 1024 * 1024
# A hung Keystone must not hang the API's threads (keystonemiddleware waits forever).
KEYSTONE_CONNECT_TIMEOUT = 10


def set_lib_defaults() -> None:
    """Entry point ``oslo.config.opts.defaults``: the sample generator shows them too."""
    cfg.set_defaults(sizelimit.OPTS, max_request_body_size=MAX_REQUEST_BODY_SIZE)
    cfg.set_defaults(
        auth_token_opts._OPTS,
        http_connect_timeout=KEYSTONE_CONNECT_TIMEOUT,
        # cool-api never reads the caller's catalog (X-Service-Catalog): validating
        # without it makes every cached token smaller and cheaper to use.
        include_service_catalog=False,
    )


def register(conf: cfg.ConfigOpts) -> None:
    """cool's options, and the API's defaults for its libraries'."""
    set_lib_defaults()
    config.register(conf)
