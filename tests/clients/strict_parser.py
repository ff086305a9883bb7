"""Bug: a strict deserializer: unknown fields or an unknown status fail the whole list."""

from _driver import ApiError, Driver, run

KNOWN = {"id", "status", "stats", "createdAt", "updatedAt"}
STATUSES = {"SCHEDULED", "PROCESSING", "COMPLETED", "CANCELED"}


class Strict(Driver):
    def operation_id(self, op):
        if set(op) - KNOWN or op["status"] not in STATUSES:
            raise ApiError(200, b"unexpected operation shape")
        return op["id"]


if __name__ == "__main__":
    run(Strict)
