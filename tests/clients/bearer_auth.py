"""Bug: sends the auth token with the Bearer scheme instead of HTTP Basic."""

from _driver import Driver, run


class BearerAuth(Driver):
    def auth_header(self):
        return f"Bearer {self.secret}"


if __name__ == "__main__":
    run(BearerAuth)
