"""The live view as a person sees it: ``cool submit --wait`` in a real terminal (tmux),
its pane captured while the build runs and once it has ended."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import uuid
from collections.abc import Iterator

import pytest

from harness.system.local import LocalSystem
from tests.cli.conftest import EXAMPLES, REPO, cool_command, cool_env
from tests.zk import assert_eventually

pytestmark = pytest.mark.slow


@pytest.fixture
def tmux(system: LocalSystem) -> Iterator[str]:
    """A private tmux server (its own socket), 100x40, killed afterwards."""
    assert shutil.which("tmux"), "this test needs tmux: scripts/test.sh installs it"
    socket = f"cool-test-{uuid.uuid4().hex[:8]}"
    yield socket
    subprocess.run(["tmux", "-L", socket, "kill-server"], check=False, capture_output=True)


def _pane(socket: str) -> str:
    done = subprocess.run(
        ["tmux", "-L", socket, "capture-pane", "-p", "-J", "-t", "cool"],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def test_submit_wait_in_a_terminal_shows_the_bar_then_the_outputs(
    system: LocalSystem, tmux: str, tmp_path
) -> None:
    env = cool_env(system, {"TERM": "xterm-256color", "COLUMNS": "100"})
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items() if k.isidentifier())
    command = shlex.join(
        cool_command(
            "submit", EXAMPLES / "multi-tier.yaml", "--wait", "-c", "status", "-c", "outputs"
        )
    )
    script = tmp_path / "run.sh"
    script.write_text(
        f"cd {shlex.quote(str(REPO))}\nenv {exports} {command}\necho EXIT=$?\nsleep 600\n"
    )
    subprocess.run(
        [
            "tmux",
            "-L",
            tmux,
            "new-session",
            "-d",
            "-s",
            "cool",
            "-x",
            "100",
            "-y",
            "40",
            "bash",
            str(script),
        ],
        check=True,
    )
    # while it builds: the spinner's line with the bar, m/16 and who is being worked on
    live = re.compile(r"CREATE_IN_PROGRESS .*━.* (\d+)/16 \d+:\d\d \w+")
    seen = assert_eventually(
        lambda: live.search(_pane(tmux)), timeout_s=60, message="the live progress line"
    )
    assert int(seen.group(1)) < 16
    final = assert_eventually(
        lambda: "EXIT=" in (pane := _pane(tmux)) and pane, timeout_s=120, message="the end"
    )
    assert "EXIT=0" in final
    assert re.search(r"✔ CREATE_COMPLETE .*━.* 16/16 \d+:\d\d", final), final
    assert re.search(r"build \w{26} CREATE_COMPLETE in \d+\.\d s", final), final
    assert "web_url: http://100.64." in final  # the outputs, in the table that ends it
    assert "db_address: 100.64." in final


def test_at_80_columns_lines_fit_and_a_delete_counts_from_zero(
    system: LocalSystem, tmux: str, tmp_path
) -> None:
    """No event line wraps and the bar stays; the delete's bar counts resources torn down
    (16/16 only at the end), not the 16 built."""
    env = cool_env(system, {"TERM": "xterm-256color", "COLUMNS": "80"})
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items() if k.isidentifier())
    submit = shlex.join(
        cool_command("submit", EXAMPLES / "multi-tier.yaml", "--wait", "-f", "value", "-c", "id")
    )
    delete = shlex.join(cool_command("delete", "--wait", "-c", "status"))
    script = tmp_path / "run.sh"
    script.write_text(
        f"cd {shlex.quote(str(REPO))}\n"
        f"id=$(env {exports} {submit})\n"
        f'env {exports} {delete} "$id"\necho EXIT=$?\nsleep 600\n'
    )
    size = ["-x", "80", "-y", "40"]
    subprocess.run(
        ["tmux", "-L", tmux, "new-session", "-d", "-s", "cool", *size, "bash", str(script)],
        check=True,
    )
    live = re.compile(r"CREATE_IN_PROGRESS .*━.* (\d+)/16 \d+:\d\d \w+")
    assert_eventually(lambda: live.search(_pane(tmux)), timeout_s=60, message="the create's bar")
    deleting = re.compile(r"DELETE_IN_PROGRESS .*━.* (\d+)/16 \d+:\d\d")
    seen = assert_eventually(
        lambda: deleting.search(_pane(tmux)), timeout_s=120, message="the delete's bar"
    )
    assert int(seen.group(1)) < 16, seen.group(0)
    final = assert_eventually(
        lambda: "EXIT=" in (pane := _pane(tmux)) and pane, timeout_s=120, message="the end"
    )
    assert "EXIT=0" in final
    assert re.search(r"✔ DELETE_COMPLETE .*━.* 16/16 \d+:\d\d", final), final
    assert "DELETE_IN_PROGRESS -> DELETE_COMPLETE" in final  # events, one line each
    # -J joins what the terminal wrapped: a line over 80 would have wrapped
    assert max(len(line) for line in final.splitlines()) <= 80, final
