"""comms-contract: conformance suite for `GET /v1/PushNotifications/Operations`."""

__version__ = "0.1.0"

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
