"""Progress of a ``comms-contract run`` while it goes: tests done, clauses checked, requests.

On a terminal, one status line on stderr, rewritten in place, from the third second on (a
short run shows nothing) and erased at the end. Elsewhere (a CI log), one plain line every
30 seconds, so a long run shows it is alive without flooding the log. It writes to a
duplicate of the process's stderr taken before pytest starts, because pytest captures the
real one while a test runs.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time
from typing import IO, Any

DELAY_S = 3.0  # a terminal shows nothing for runs shorter than this
TICK_S = 0.5  # terminal refresh
LOG_INTERVAL_S = 30.0  # one status line this often when stderr is not a terminal


class Progress:
    """A pytest plugin (pass it to ``pytest.main(plugins=[...])``) and a ticker thread."""

    def __init__(
        self,
        stream: IO[str] | None = None,
        *,
        tty: bool | None = None,
        delay: float = DELAY_S,
        interval: float | None = None,
    ) -> None:
        self._owned = False
        if stream is None:
            try:
                fd = os.dup(sys.stderr.fileno())
            except (AttributeError, OSError, ValueError):  # stderr replaced (in-process use)
                stream = sys.stderr
            else:
                stream = os.fdopen(fd, "w", buffering=1, encoding="utf-8", errors="replace")
                self._owned = True
        self.stream = stream
        self.tty = stream.isatty() if tty is None else tty
        self.interval = interval or (TICK_S if self.tty else LOG_INTERVAL_S)
        self.delay = delay if self.tty else self.interval  # a log's first line after 30 s
        self.total = 0
        self.done = 0
        self.started = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._shown = False

    # ---- pytest hooks -------------------------------------------------------------------------
    def pytest_collection_finish(self, session: Any) -> None:
        self.total = len(session.items)

    def pytest_runtest_logfinish(self, nodeid: str, location: Any) -> None:
        self.done += 1

    def pytest_sessionstart(self, session: Any) -> None:
        self.start()

    def pytest_sessionfinish(self, session: Any, exitstatus: int) -> None:
        self.stop()

    # ---- the ticker ---------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self.started = time.monotonic()
            self._thread = threading.Thread(target=self._run, name="comms-progress", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        if self.tty and self._shown:
            self._write("\r\x1b[K")
        if self._owned:
            try:
                self.stream.close()
            except OSError:
                pass

    def status(self) -> str:
        """``12/58 tests, 9/32 clauses checked, 341 requests, 14 s``."""
        from comms_contract import catalog
        from comms_contract.session import current

        elapsed = time.monotonic() - self.started
        # before collection ends there is no total yet: "collecting", not "0/0 tests"
        parts = [f"{self.done}/{self.total} tests" if self.total else "collecting tests"]
        try:
            run = current()
        except RuntimeError:
            run = None
        if run is not None:
            ledger = run.ledger
            wanted = len(ledger.selected) if ledger.selected else len(catalog.clauses())
            seen = len({c for c, by in ledger.checked.items() if by} | set(ledger.findings))
            parts += [f"{min(seen, wanted)}/{wanted} clauses checked", f"{run.requests} requests"]
        parts.append(f"{elapsed:.0f} s")
        return "comms-contract: " + ", ".join(parts)

    def _run(self) -> None:
        if self._stop.wait(self.delay):
            return
        while True:
            line = self.status()
            if self.tty:
                width = shutil.get_terminal_size((80, 24)).columns
                self._write("\r" + line[: max(width - 1, 10)] + "\x1b[K")
            else:
                self._write(line + "\n")
            self._shown = True
            if self._stop.wait(self.interval):
                return

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            pass  # a closed or broken stderr must not break the run
