"""Durable, sealed storage: journal, snapshots, blobs, keys, the secret ballot box."""

from .ballotbox import BallotBox
from .blobs import BlobStore
from .journal import Journal
from .keys import Keyring
from .sealed import SealedStorage
from .snapshots import Snapshots
from .verify import VerifyReport, verify_journal

__all__ = [
    "BallotBox",
    "BlobStore",
    "Journal",
    "Keyring",
    "SealedStorage",
    "Snapshots",
    "VerifyReport",
    "verify_journal",
]
