"""Bug: the paginator stops after 20 pages without an error (a built-in "max pages" default),
so a longer list comes back silently cut and the driver exits 0."""

from _driver import Driver, run


class Capped(Driver):
    max_pages = 20

    def walk(self):
        token, pages = None, 0
        while pages < self.max_pages:
            body = self.fetch(self.query(token))
            pages += 1
            yield from (op["id"] for op in body["operations"])
            token = self.next_token(body)
            if token is None:
                return


if __name__ == "__main__":
    run(Capped)
