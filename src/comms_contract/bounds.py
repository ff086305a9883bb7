"""Where an item stands against date bounds, with the contract's 1 ms FREE band.

CONTRACT.md §2 FILTER-COMPLETE (and FILTER-SOUND, read with it): an item exactly at
``startDate``/``endDate``, or less than 1 ms from one, is FREE (in or out), because stores
commonly keep milliseconds or microseconds and truncate or round a bound's finer digits. An
item 1 ms or more outside a bound must be out; 1 ms or more inside every bound, it must be in.
All instants are integer nanoseconds since the epoch (``comms_contract.rfc3339``).
"""

from __future__ import annotations

BAND_NS = 1_000_000  # 1 ms: the FREE band on each side of a date bound


def outside(created: int, start: int | None, end: int | None) -> bool:
    """True when ``created`` is 1 ms or more before ``start`` or after ``end``: a filtered
    answer holding it breaks FILTER-SOUND."""
    return (start is not None and created <= start - BAND_NS) or (
        end is not None and created >= end + BAND_NS
    )


def near(created: int, start: int | None, end: int | None) -> bool:
    """True when ``created`` is less than 1 ms from either bound (FREE: in or out)."""
    return any(b is not None and abs(created - b) < BAND_NS for b in (start, end))


def position(created: int, start: int | None, end: int | None) -> bool | None:
    """False: must be out; None: FREE (within the band of a bound); True: must be in."""
    if outside(created, start, end):
        return False
    if near(created, start, end):
        return None
    return True


def distance_text(created: int, bound: int) -> str:
    """How far ``created`` is from ``bound``, for findings (e.g. '500 ms', '1.000001 ms')."""
    gap = abs(created - bound)
    if gap % 1_000_000 == 0:
        return f"{gap // 1_000_000} ms"
    return f"{gap / 1_000_000:.6f} ms"
