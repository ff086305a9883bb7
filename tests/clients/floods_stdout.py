"""Hostile (breaker, 2026-11-30): after its walk the driver prints without end (3 GiB of NUL
bytes filled the kit's temporary file before its timeout)."""

import sys

from _driver import Driver, run


class FloodsStdout(Driver):
    def main(self):
        self.collect()
        block = b"\0" * (1 << 20)
        while True:
            sys.stdout.buffer.write(block)


if __name__ == "__main__":
    run(FloodsStdout)
