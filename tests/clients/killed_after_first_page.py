"""Hostile (breaker, 2026-11-30): the driver kills itself with SIGKILL after its first page, so
it never reaches the page an error scenario answers with an error."""

import os
import signal

from _driver import Driver, run


class KilledAfterFirstPage(Driver):
    def send(self, pairs):
        if any(name == "pageToken" for name, _ in pairs):  # about to ask for page 2
            os.kill(os.getpid(), signal.SIGKILL)
        return super().send(pairs)


if __name__ == "__main__":
    run(KilledAfterFirstPage)
