"""comms-contract: conformance suite for `GET /v1/PushNotifications/Operations`."""

__version__ = "0.1.0"

# ``-p comms_contract`` (with entry-point autoloading off) registers this package as a pytest
# plugin: it loads the real one
pytest_plugins = ["comms_contract.plugin"]

OPERATIONS_PATH = "/v1/PushNotifications/Operations"
STATUSES = ("SCHEDULED", "PROCESSING", "COMPLETED", "CANCELED")
STATS_FIELDS = (
    "total",
    "recipients",
    "unaddressable",
    "scheduled",
    "queued",
    "sent",
    "failed",
    "canceled",
)
