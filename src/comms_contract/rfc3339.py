"""RFC 3339 date-times as integer nanoseconds.

Python's ``datetime`` stops at microseconds, but the contract allows 0-9 fractional digits
and requires equal instants to compare equal, so instants are kept as integer nanoseconds.
"""

from __future__ import annotations

import calendar
import re
from datetime import datetime, timezone

_RFC3339 = re.compile(
    r"^(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})(?P<t>[Tt])(?P<h>\d{2}):(?P<mi>\d{2}):(?P<s>\d{2})"
    r"(?:\.(?P<frac>\d{1,9}))?(?P<off>[Zz]|[+-]\d{2}:\d{2})$"
)


def parse(value: str, *, strict_case: bool = True) -> int | None:
    """Nanoseconds since the epoch, or None when ``value`` is not an RFC 3339 date-time.

    With ``strict_case`` the ``T`` and ``Z`` must be upper case (RFC 3339 allows lower case in a
    note; the suite treats lower case as FREE, the reference server rejects it).
    Leap seconds (``:60``) are refused: the contract's clients never need them.
    """
    m = _RFC3339.match(value)
    if m is None:
        return None
    if strict_case and (m["t"] != "T" or m["off"] == "z"):
        return None
    y, mo, d = int(m["y"]), int(m["mo"]), int(m["d"])
    h, mi, s = int(m["h"]), int(m["mi"]), int(m["s"])
    if not (1 <= mo <= 12 and 1 <= d <= calendar.monthrange(y or 2000, mo)[1] and y >= 1):
        return None
    if h > 23 or mi > 59 or s > 59:
        return None
    off = m["off"]
    offset_s = 0
    if off not in ("Z", "z"):
        oh, om = int(off[1:3]), int(off[4:6])
        if oh > 23 or om > 59:
            return None
        offset_s = (oh * 3600 + om * 60) * (1 if off[0] == "+" else -1)
    frac = (m["frac"] or "").ljust(9, "0")
    seconds = calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0)) - offset_s
    return seconds * 1_000_000_000 + int(frac)


def is_lowercase_variant(value: str) -> bool:
    """True for an otherwise valid date-time written with a lower-case ``t`` or ``z``."""
    return parse(value) is None and parse(value, strict_case=False) is not None


def format_ns(ns: int, *, offset_minutes: int = 0, digits: int | None = None) -> str:
    """Write an instant as RFC 3339, with ``Z`` or a numeric offset and ``digits`` fraction.

    ``digits=None`` writes the shortest exact fraction (none for whole seconds).
    """
    seconds, frac = divmod(ns, 1_000_000_000)
    local = seconds + offset_minutes * 60
    base = datetime.fromtimestamp(local, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    if digits is None:
        text = f"{frac:09d}".rstrip("0")
        fraction = f".{text}" if text else ""
    elif digits == 0:
        fraction = ""
    else:
        fraction = "." + f"{frac:09d}"[:digits]
    if offset_minutes == 0:
        zone = "Z"
    else:
        sign = "+" if offset_minutes > 0 else "-"
        hh, mm = divmod(abs(offset_minutes), 60)
        zone = f"{sign}{hh:02d}:{mm:02d}"
    return base + fraction + zone
