"""The ``cool`` application: commands are cliff entry points (``cliff.cool``)."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from cliff.app import App
from cliff.commandmanager import CommandManager

from cool import __version__
from cool.cli import connection
from cool.cli.client import CoolClient


class CoolApp(App):
    def __init__(
        self, argv: Sequence[str], *, stdout: TextIO | None = None, stderr: TextIO | None = None
    ) -> None:
        self._argv = list(argv)  # openstacksdk adds the options of the auth type they name
        self._client: CoolClient | None = None
        super().__init__(
            description="cool: a reliable, distributed build service for OpenStack clouds",
            version=__version__,
            command_manager=CommandManager("cliff.cool"),
            deferred_help=True,
            stdout=stdout,
            stderr=stderr,
        )

    def build_option_parser(
        self,
        description: str | None,
        version: str | None,
        argparse_kwargs: dict[str, Any] | None = None,
    ) -> argparse.ArgumentParser:
        parser = super().build_option_parser(description, version, argparse_kwargs)
        connection.add_arguments(parser, self._argv)
        return parser

    def configure_logging(self) -> None:
        super().configure_logging()
        if self.options.verbose_level <= 1:
            # keystoneauth says every retry it makes; the user needs the outcome.
            logging.getLogger("keystoneauth").setLevel(logging.ERROR)

    @property
    def client(self) -> CoolClient:
        """The API, authenticated on first use: offline commands never need it."""
        if self._client is None:
            self._client = connection.connect(self.options, self._argv)
        return self._client


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    return CoolApp(args).run(args)


if __name__ == "__main__":
    sys.exit(main())
