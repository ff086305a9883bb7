"""Bug: always asks for pages of 5000 to save round trips (outside 1..1000)."""

from _driver import Driver, run


class BigPages(Driver):
    def format_param(self, name, value):
        return "5000" if name == "pageSize" else str(value)


if __name__ == "__main__":
    run(BigPages)
