"""Submitting the chaos run's builds through the REST API, and their cancels and deletes.

One thread submits the builds at their drawn times (until the injection
window closes); a few threads do the follow-ups: a cancel once a build is in
progress (plus its drawn delay), a delete once it is complete. A follow-up
looks at its build once a second, from a queue ordered by when to look next,
so thousands of builds need no thread each. Follow-ups go on after the
window, while the run settles, and stop at ``stop``.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Sequence

from bench.chaos.api import ApiClient, ApiGaveUpError
from bench.chaos.builds import Build

_LOOK_EVERY_S = 1.0
_FOLLOWERS = 4
TERMINAL = frozenset(
    {
        "CREATE_COMPLETE", "CREATE_FAILED", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED",
        "CANCEL_COMPLETE", "DELETE_COMPLETE", "DELETE_FAILED",
    }
)  # fmt: skip


class Load:
    def __init__(self, client: ApiClient, builds: Sequence[Build], started_at: float) -> None:
        self.client = client
        self.builds = builds
        self.started_at = started_at  # time.monotonic() of the run's start
        self.stop = threading.Event()
        self.window_closed = threading.Event()
        self._queue: list[tuple[float, int, Build]] = []
        self._order = itertools.count()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self.follow_ups_open = 0

    def start(self) -> None:
        self._threads = [threading.Thread(target=self._submit_all, name="chaos-submit")]
        self._threads += [
            threading.Thread(target=self._follow, name=f"chaos-follow-{i}")
            for i in range(_FOLLOWERS)
        ]
        for thread in self._threads:
            thread.daemon = True
            thread.start()

    def join(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        for thread in self._threads:
            thread.join(max(deadline - time.monotonic(), 0.1))

    def pending_follow_ups(self) -> int:
        with self._lock:
            return len(self._queue) + self.follow_ups_open

    # -- submits

    def _submit_all(self) -> None:
        for build in self.builds:
            wait_s = self.started_at + build.submit_at_s - time.monotonic()
            if self.window_closed.wait(max(wait_s, 0)) or self.stop.is_set():
                return
            self.submit(build)
            if build.build_id and build.kind in ("cancel", "delete"):
                self._later(build, 0.2)

    def submit(self, build: Build) -> None:
        body = {"template": build.template, "name": build.name, "rollback": build.rollback}
        headers = {"Idempotency-Key": f"chaos-{build.seq}-{self.started_at:.3f}"}
        try:
            answer = self.client.call("POST", "/v1/builds", body, headers)
        except ApiGaveUpError as exc:
            build.submit_error = str(exc)
            return
        if answer.status != 202:
            build.submit_error = f"{answer.status}: {answer.body}"
            return
        build.build_id = answer.body["build"]["id"]

    # -- cancels and deletes

    def _later(self, build: Build, delay_s: float) -> None:
        with self._lock:
            heapq.heappush(self._queue, (time.monotonic() + delay_s, next(self._order), build))

    def _follow(self) -> None:
        while not self.stop.is_set():
            with self._lock:
                due = self._queue[0][0] if self._queue else None
                if due is not None and due <= time.monotonic():
                    _, _, build = heapq.heappop(self._queue)
                    self.follow_ups_open += 1
                else:
                    build = None
            if build is None:
                self.stop.wait(0.05)
                continue
            try:
                self._look(build)
            except ApiGaveUpError as exc:
                build.submit_error = f"follow-up: {exc}"
            finally:
                with self._lock:
                    self.follow_ups_open -= 1

    def _look(self, build: Build) -> None:
        answer = self.client.call("GET", f"/v1/builds/{build.build_id}")
        status = answer.body["build"]["status"] if answer.status == 200 else ""
        if build.kind == "cancel":
            if status in TERMINAL:
                return  # it ended before we cancelled: CREATE_COMPLETE is then right
            if status != "CREATE_IN_PROGRESS":
                self._later(build, 0.2)
                return
            time.sleep(build.cancel_after_s)
            self._act(build, "POST", f"/v1/builds/{build.build_id}/cancel")
        elif build.kind == "delete":
            if status == "CREATE_COMPLETE":
                self._act(build, "DELETE", f"/v1/builds/{build.build_id}")
            elif status in TERMINAL:
                return  # it did not complete: the report shows it
            else:
                self._later(build, _LOOK_EVERY_S)

    def _act(self, build: Build, method: str, path: str) -> None:
        build.action_at = time.time()
        build.action_status = self.client.call(method, path).status
