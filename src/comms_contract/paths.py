"""Where the data shipped with the package lives.

A wheel carries the top-level ``schemas/`` and ``contracts/`` inside the package; a source
checkout keeps them at the repository root. Both layouts work, installed first.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """``comms_contract/<name>`` when installed, else ``<checkout>/<name>``."""
    for candidate in (_PACKAGE / name, _PACKAGE.parents[1] / name):
        if candidate.is_dir():
            return candidate
    raise RuntimeError(
        f"comms-contract cannot find its {name}/ directory (looked in {_PACKAGE / name} and "
        f"{_PACKAGE.parents[1] / name}); reinstall the package with 'pip install comms-contract'"
    )


def contracts_dir() -> Path:
    return data_dir("contracts")
