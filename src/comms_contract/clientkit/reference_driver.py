"""The kit's known-good client: the suite's own walker over its own HTTP client.

``python -m comms_contract.clientkit.reference_driver`` speaks the driver protocol. It honours
Retry-After on 429/503 (``ContractClient``, at most 6 attempts per request), never retries a
500, follows ``next`` to the end, and prints the ids only once the whole list is in: on any
error it prints nothing to stdout and exits 1.
"""

from __future__ import annotations

import json
import os
import sys

from comms_contract.http import ClientSettings, ContractClient, Target
from comms_contract.ledger import Ledger, TargetError
from comms_contract.walker import walk


def main() -> int:
    try:
        base = os.environ["COMMS_BASE_URL"]
        target = Target(base, os.environ["COMMS_ACCOUNT_ID"], os.environ["COMMS_AUTH_TOKEN"])
        params = json.loads(os.environ.get("COMMS_LIST_PARAMS") or "{}")
    except (KeyError, ValueError) as exc:
        print(f"reference-driver: bad environment: {exc}", file=sys.stderr)
        return 2
    # a model SDK: CLIENT-RETRY-BOUND's 10 throttled answers in a row, never more
    settings = ClientSettings(timeout=20.0, max_wait=30, persist_while_served=False)
    client = ContractClient(target, Ledger(), settings=settings)
    try:
        result = walk(client.get, [(k, str(v)) for k, v in params.items()])
    except TargetError as exc:  # persistent throttling, transport failure
        print(f"reference-driver: {exc}", file=sys.stderr)
        return 1
    finally:
        client.close()
    if not result.complete:
        last = result.exchanges[-1]
        print(f"reference-driver: walk stopped ({result.stopped}): {last.line()}", file=sys.stderr)
        return 1
    sys.stdout.write("".join(f"{i}\n" for i in result.ids))
    return 0


if __name__ == "__main__":
    sys.exit(main())
