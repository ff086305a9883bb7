"""Bug: adds ±20 % random jitter to every wait, Retry-After included (a real SDK runtime
shipped this): about half of its waits end before Retry-After has elapsed."""

import random

from _driver import Driver, run


class Jitter(Driver):
    def retry_delay(self, headers):
        return super().retry_delay(headers) * random.uniform(0.8, 1.2)


if __name__ == "__main__":
    run(Jitter)
