"""Bug: retries a 500 again and again (bounded at 20 tries here so the test ends)."""

import time

from _driver import ApiError, Driver, run


class Retries500(Driver):
    def on_server_error(self, status, body, attempt):
        if attempt >= 20:
            raise ApiError(status, body)
        time.sleep(0.01)


if __name__ == "__main__":
    run(Retries500)
