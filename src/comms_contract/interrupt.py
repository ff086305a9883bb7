"""Ending a run on SIGINT, SIGTERM or SIGHUP: promptly, with reports that say so.

A CI system cancels a job with SIGTERM (GitHub Actions, GitLab) or SIGINT; a closed terminal
sends SIGHUP. Python's default for SIGTERM and SIGHUP is to die on the spot (no report, the
temporary folder left behind), and a plain ``KeyboardInterrupt`` looked to the runner like a
collection error. Here each of the three raises ``RunInterrupted``, a ``KeyboardInterrupt``,
so pytest stops the session the way it does for Ctrl-C: fixtures are torn down,
``pytest_keyboard_interrupt`` and ``pytest_sessionfinish`` run, and the plugin marks the
session interrupted before the reports are written. The exit code is the shell's convention,
128 + the signal number (130 SIGINT, 143 SIGTERM, 129 SIGHUP).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


class RunInterrupted(KeyboardInterrupt):
    """The run was ended by a signal; ``signal_name`` is e.g. ``"SIGTERM"``."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        self.signal_name = signal.Signals(signum).name
        super().__init__(f"interrupted by {self.signal_name}")


def signal_name(exc: BaseException) -> str:
    """The signal behind an interruption (a bare ``KeyboardInterrupt`` is Ctrl-C: SIGINT)."""
    return getattr(exc, "signal_name", "SIGINT")


def exit_code(signum: int) -> int:
    """The shell's code for a process ended by ``signum``: 128 + N."""
    return 128 + int(signum)


_ARMED: list[list[int]] = []  # the ``received`` lists of the handlers in force, innermost last


def pending() -> int | None:
    """The first signal the handlers in force received, or None.

    The handler raises ``RunInterrupted`` wherever the main thread happens to be, and code
    that stores exceptions for later (a future nobody reads, a library's broad ``except``)
    can swallow it; the plugin asks this between tests and when the session finishes, so a
    swallowed signal still ends the run and still makes it "interrupted", never a pass."""
    for received in reversed(_ARMED):
        if received:
            return received[0]
    return None


GRACE_S = 10.0  # after a signal, the longest a process run by the CLI may take to end


def _end_after_grace(signum: int) -> None:
    """The CLI's last resort: the run did not end within ``GRACE_S`` of the signal (a lane
    stuck in a request to a stalled target, a clean-up waiting on it). CI systems send
    SIGKILL a few seconds after SIGTERM; end first, with the signal's exit code, so the
    reports already written stand and the shell sees 128 + N."""
    import os
    import sys

    try:
        sys.stderr.write(
            f"comms-contract: interrupted by {signal.Signals(signum).name}; "
            f"ending now ({GRACE_S:.0f} s after the signal)\n"
        )
        sys.stderr.flush()
        sys.stdout.flush()
    finally:
        os._exit(exit_code(signum))


def arm(received: list[int], *, grace: bool = False) -> Callable[[], None]:
    """Install the handlers (main thread only); returns the function that restores the
    previous ones. The first signal raises ``RunInterrupted``; later ones are only appended
    to ``received``, so the clean-up they would interrupt (reports, temporary folder) can
    finish."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def handler(signum: int, frame: object) -> None:
        received.append(signum)
        if len(received) == 1:
            if grace:
                timer = threading.Timer(GRACE_S, _end_after_grace, (signum,))
                timer.daemon = True
                timer.start()
            raise RunInterrupted(signum)

    previous = {sig: signal.signal(sig, handler) for sig in SIGNALS}
    _ARMED.append(received)

    def restore() -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)
        if received in _ARMED:
            _ARMED.remove(received)

    return restore


@contextmanager
def signals_end_run(*, grace: bool = False) -> Iterator[list[int]]:
    """Within the block SIGINT/SIGTERM/SIGHUP end the run (``arm``); yields the list of
    received signal numbers. ``grace``: the process ends at the latest ``GRACE_S`` after the
    first signal (the CLI's own process only). Outside the main thread it changes nothing."""
    received: list[int] = []
    restore = arm(received, grace=grace)
    try:
        yield received
    finally:
        restore()
