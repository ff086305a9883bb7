"""Advisory, not a bug: writes dates with a lower-case 't' and 'z' (valid RFC 3339, but a
server may refuse it). The kit reports CLIENT-DATES as an advisory; the run still passes."""

from datetime import datetime, timezone

from _driver import Driver, run


class LowerCase(Driver):
    def format_param(self, name, value):
        if name in ("startDate", "endDate"):
            instant = datetime.fromisoformat(value).astimezone(timezone.utc)
            return instant.isoformat(timespec="microseconds").replace("+00:00", "z").lower()
        return str(value)


if __name__ == "__main__":
    run(LowerCase)
