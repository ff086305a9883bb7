"""Bug: on an API error it prints what it has and exits 0 (a partial list as if complete)."""

import sys

from _driver import ApiError, Driver, run


class SwallowsErrors(Driver):
    def main(self):
        ids = []
        try:
            for op_id in self.walk():
                ids.append(op_id)
        except ApiError as err:
            print(f"driver: ignoring {err}", file=sys.stderr)
        sys.stdout.write("".join(f"{i}\n" for i in ids))
        return 0


if __name__ == "__main__":
    run(SwallowsErrors)
