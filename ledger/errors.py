"""One error root for the ledger; the API maps each class to one HTTP status at one place."""

from __future__ import annotations


class LedgerError(Exception):
    """Root of every error the ledger raises on purpose."""

    title = "Ledger error"


class ValidationError(LedgerError):
    """Bad input: names the offending field so a client can fix exactly that."""

    title = "Invalid input"

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(f"{field}: {detail}")
        self.field = field
        self.detail = detail


class ConflictError(LedgerError):
    """The same event_id was already recorded with other content."""

    title = "Conflict"


class NotFoundError(LedgerError):
    title = "Not found"


class ForbiddenError(LedgerError):
    title = "Forbidden"


class StorageError(LedgerError):
    """The store failed; the driver boundary translates driver exceptions into this."""

    title = "Storage error"


class StorageUnavailableError(StorageError):
    """The store cannot take writes right now (read-only, full, lease lost); retrying later may work."""

    title = "Storage unavailable"


class IntegrityError(LedgerError):
    """Stored data contradicts itself: a hash, node or checkpoint does not match what it must be."""

    title = "Integrity failure"


class SigningHeldError(LedgerError):
    """The log does not sign new checkpoints: split-view evidence from witnesses leaves too few to meet
    the witness policy (SPEC section 7). Entries are still accepted; an operator must investigate."""

    title = "Checkpoint signing held"


class VerificationError(LedgerError):
    """A proof, signature or note failed to verify."""

    title = "Verification failed"


class DataDirError(LedgerError):
    """The data directory is missing, foreign or unreadable."""

    title = "Data directory error"


class CalendarError(LedgerError):
    """The working-day calendar cannot answer for a date; ``year`` is the missing year, if that is why."""

    title = "Working-day calendar incomplete"

    def __init__(self, message: str, *, year: int | None = None) -> None:
        super().__init__(message)
        self.year = year
