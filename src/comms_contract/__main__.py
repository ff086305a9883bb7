import sys

from comms_contract.cli import main

sys.exit(main())
