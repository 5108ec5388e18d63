"""The ``cool`` application: commands are cliff entry points (``cliff.cool``)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from cliff.app import App
from cliff.commandmanager import CommandManager

from cool import __version__


class CoolApp(App):
    def __init__(self) -> None:
        super().__init__(
            description="cool: a reliable, distributed build service for OpenStack clouds",
            version=__version__,
            command_manager=CommandManager("cliff.cool"),
            deferred_help=True,
        )


def main(argv: Sequence[str] | None = None) -> int:
    return CoolApp().run(list(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    sys.exit(main())
