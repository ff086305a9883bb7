"""Bug: sends no Authorization header at all."""

from _driver import Driver, run


class NoAuth(Driver):
    def auth_header(self):
        return None


if __name__ == "__main__":
    run(NoAuth)
