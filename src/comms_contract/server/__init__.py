"""The reference server (embedded target and SDK mock)."""

from comms_contract.server.app import ApiError, Credentials, ReferenceServer
from comms_contract.server.dataset import Dataset, Operation

__all__ = ["ApiError", "Credentials", "Dataset", "Operation", "ReferenceServer"]
