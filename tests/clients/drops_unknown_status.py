"""Bug: silently skips operations whose status is not one of the four it knows."""

from _driver import Driver, run

STATUSES = {"SCHEDULED", "PROCESSING", "COMPLETED", "CANCELED"}


class DropsUnknown(Driver):
    def operation_id(self, op):
        return op["id"] if op["status"] in STATUSES else None


if __name__ == "__main__":
    run(DropsUnknown)
