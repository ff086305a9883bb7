"""A conformant driver (the base the faulty clients start from)."""

from _driver import Driver, run

if __name__ == "__main__":
    run(Driver)
