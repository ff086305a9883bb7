"""The ``comms-contract`` console script and ``python -m comms_contract``.

A separate module so that a broken install (a dependency missing, as after
``pip install --no-deps``, or an environment other than the one it was installed into) ends
in one line and exit 2, the code for configuration trouble, instead of a Python traceback
from the first ``import httpx``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line (``comms_contract.cli.main``); exit status as it returns."""
    try:
        from comms_contract.cli import main as run
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if not missing or missing.split(".")[0] == "comms_contract":
            raise  # the package itself is broken: a bug, shown as one
        print(
            f"comms-contract: error: its dependency {missing.split('.')[0]!r} is not installed "
            f"for {sys.executable}; install comms-contract with its dependencies "
            "(pip install . from a checkout, without --no-deps)",
            file=sys.stderr,
        )
        return 2
    return run(argv)
