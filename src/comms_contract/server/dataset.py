"""A seeded, in-memory set of push notification operations.

The data is built to exercise the contract: every status, ties on ``createdAt`` that straddle
page boundaries, consistent stats and dates, all inside the 7-day retention window.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field, replace

from comms_contract import STATUSES
from comms_contract.rfc3339 import format_ns

CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"
SECOND = 1_000_000_000
DAY = 86_400 * SECOND
RETENTION = 7 * DAY


def operation_id(created_ns: int, rng: random.Random) -> str:
    """A ULID-like id: 10 timestamp characters then 16 random ones, lower-case Crockford."""
    ms = created_ns // 1_000_000
    stamp = ""
    for _ in range(10):
        ms, r = divmod(ms, 32)
        stamp = CROCKFORD[r] + stamp
    return "comms_operation_" + stamp + "".join(rng.choice(CROCKFORD) for _ in range(16))


@dataclass(frozen=True)
class Operation:
    id: str
    status: str
    stats: dict[str, int]
    created_ns: int
    updated_ns: int

    @property
    def sort_key(self) -> tuple[int, str]:
        return (self.created_ns, self.id)

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "status": self.status,
            "stats": dict(self.stats),
            "createdAt": format_ns(self.created_ns),
            "updatedAt": format_ns(self.updated_ns),
        }


def make_stats(status: str, rng: random.Random) -> dict[str, int]:
    """Stats that agree with the status (the docs' own example does not; the suite allows it)."""
    total = rng.randint(1, 5000)
    unaddressable = rng.randint(0, total // 20)
    live = total - unaddressable
    s = dict.fromkeys(("scheduled", "queued", "sent", "failed", "canceled"), 0)
    if status == "SCHEDULED":
        s["scheduled"] = live
    elif status == "PROCESSING":
        s["sent"] = rng.randint(0, live)
        s["failed"] = rng.randint(0, live - s["sent"])
        s["queued"] = live - s["sent"] - s["failed"]
    elif status == "COMPLETED":
        s["failed"] = rng.randint(0, live // 10)
        s["sent"] = live - s["failed"]
    else:
        s["sent"] = rng.randint(0, live // 2)
        s["canceled"] = live - s["sent"]
    return {"total": total, "recipients": total, "unaddressable": unaddressable, **s}


@dataclass
class Dataset:
    """Operations keyed by id; thread-safe so a live-data variant can change it mid-run."""

    operations: dict[str, Operation] = field(default_factory=dict)
    now_ns: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def generate(cls, count: int = 160, seed: int = 0, now_ns: int | None = None) -> Dataset:
        """``count`` operations from the last 6.5 days, with a cluster of ties on one instant."""
        rng = random.Random(seed)
        now = time.time_ns() if now_ns is None else now_ns
        now -= now % SECOND
        ops: dict[str, Operation] = {}
        tie_instant = now - rng.randint(1 * DAY, 3 * DAY)
        tie_instant -= tie_instant % SECOND
        ties = min(count, 7) if count >= 10 else 0
        for i in range(count):
            if i < ties:
                created = tie_instant
            else:
                created = now - rng.randint(60 * SECOND, int(6.5 * DAY))
                if rng.random() < 0.2:
                    created -= created % SECOND - rng.randint(1, 999) * 1_000_000
                else:
                    created -= created % SECOND
            status = STATUSES[i % len(STATUSES)] if i < 2 * len(STATUSES) else rng.choice(STATUSES)
            updated = min(now, created + rng.randint(0, 3 * 3600) * SECOND)
            op = Operation(
                operation_id(created, rng), status, make_stats(status, rng), created, updated
            )
            ops[op.id] = op
        return cls(operations=ops, now_ns=now)

    def snapshot(self) -> list[Operation]:
        with self.lock:
            return list(self.operations.values())

    def add(self, op: Operation) -> None:
        with self.lock:
            self.operations[op.id] = op

    def set_status(self, op_id: str, status: str, updated_ns: int) -> None:
        with self.lock:
            old = self.operations[op_id]
            self.operations[op_id] = replace(old, status=status, updated_ns=updated_ns)
