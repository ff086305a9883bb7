import sys

from comms_contract.entry import main

sys.exit(main())
