"""Bug: the same requests + urllib3 client with Retry(total=10): 10 retries are 11 requests, so
a throttle that never lifts gets 11 throttled answers in a row, one more than CONTRACT.md §5
allows."""

import sys

from requests_urllib3 import main

if __name__ == "__main__":
    sys.exit(main(retries=10))
