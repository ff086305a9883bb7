"""Bug: lists the first page only (ignores pagination.next)."""

from _driver import Driver, run


class FirstPageOnly(Driver):
    def next_token(self, body):
        return None


if __name__ == "__main__":
    run(FirstPageOnly)
