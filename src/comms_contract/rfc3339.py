"""RFC 3339 date-times as integer nanoseconds.

Python's ``datetime`` stops at microseconds, but the contract allows 0-9 fractional digits
and requires equal instants to compare equal, so instants are kept as integer nanoseconds.
"""

from __future__ import annotations

import calendar
import functools
import re

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
    if not isinstance(value, str) or len(value) > _LONGEST:
        return None  # and a hostile server's megabyte "date" is never kept in the cache
    return _parse(value, strict_case)


_LONGEST = len("0001-01-01T00:00:00.000000000+00:00")


@functools.lru_cache(maxsize=1 << 16)
def _parse(value: str, strict_case: bool) -> int | None:
    # memoised: a run parses the same createdAt/updatedAt strings on page after page (300,000
    # calls in a ci run against 5,000 operations; docs/performance.md)
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

    ``digits=None`` writes the shortest exact fraction (none for whole seconds). Plain integer
    arithmetic, not ``datetime``: the local date-time may be any of years 0001-9999 (e.g.
    ``9999-12-31T23:59:59-01:00``, whose UTC instant is in year 10000); a local year outside
    that range has no RFC 3339 spelling and raises ValueError.
    """
    seconds, frac = divmod(ns, 1_000_000_000)
    days, rest = divmod(seconds + offset_minutes * 60, 86_400)
    y, mo, d = _civil(days)
    if not 1 <= y <= 9999:
        raise ValueError(f"year {y} has no RFC 3339 spelling (4 digits, 0001-9999)")
    h, rest = divmod(rest, 3600)
    mi, s = divmod(rest, 60)
    base = f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}"
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


def _civil(days: int) -> tuple[int, int, int]:
    """Days since 1970-01-01 -> proleptic Gregorian (year, month, day), any year
    (H. Hinnant's days-to-civil algorithm)."""
    z = days + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (m <= 2), m, d


# The instants whose UTC spelling has a 4-digit year: 0001-01-01T00:00:00Z up to
# 9999-12-31T23:59:59.999999999Z. Offsets let RFC 3339 name up to 23:59 beyond either end.
MIN_UTC_NS = (calendar.timegm((1, 1, 1, 0, 0, 0, 0, 0, 0))) * 1_000_000_000
MAX_UTC_NS = (calendar.timegm((9999, 12, 31, 23, 59, 59, 0, 0, 0)) + 1) * 1_000_000_000 - 1


def in_utc_range(ns: int) -> bool:
    """True when the instant can be written with ``Z`` (its UTC year is 0001-9999)."""
    return MIN_UTC_NS <= ns <= MAX_UTC_NS
