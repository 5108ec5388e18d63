"""Files of the local systems that hold secrets (passwords, htpasswd, clouds.yaml)."""

from __future__ import annotations

import os
from pathlib import Path


def write_private(path: Path, text: str) -> None:
    """Readable by the owner only, and replaced whole: a running reader (cool-api and
    its htpasswd file, a client waiting on a ready file) never sees half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    temporary.replace(path)
