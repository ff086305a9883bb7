"""Bug: writes the date filters to whole seconds (strftime without %f), dropping the caller's
fractional seconds: the filter moves by up to a second."""

from datetime import datetime

from _driver import Driver, run


class WholeSeconds(Driver):
    def format_param(self, name, value):
        if name in ("startDate", "endDate"):
            instant = datetime.fromisoformat(value)  # keeps the offset
            offset = value[-6:] if value[-6] in "+-" else "Z"
            return instant.strftime("%Y-%m-%dT%H:%M:%S") + offset
        return str(value)


if __name__ == "__main__":
    run(WholeSeconds)
