"""Every error hrledger raises on purpose, in one tree; ``api/errors.py`` maps each class to one HTTP status.

The tree (HTTP status of each leaf in brackets; the most specific class wins)::

    LedgerError                              [500] root of every error raised on purpose
    ├── ValidationError                      [422] bad input; ``field`` names the offending field
    │   ├── BadRequestError                  [400] a malformed request: bad JSON, bad query parameters
    │   └── PolicyError                      [422] a policy file (company, witnesses) is wrong; ``field`` names the key
    ├── UnauthorizedError                    [401] no bearer token, or an unknown or revoked one
    ├── ForbiddenError                       [403] the token's role may not do this
    ├── NotFoundError                        [404]
    ├── ConflictError                        [409] the same event_id was recorded with other content
    ├── CalendarError                        [409] the working-day calendar cannot answer for a date
    ├── StorageError                         [500] the store failed (translated at the driver boundary)
    │   └── StorageUnavailableError          [503] writes cannot happen now: read-only, full, lease lost
    │       └── CheckpointTimeoutError       [503] committed, but no checkpoint covered it in time
    ├── SigningHeldError                     [503] the witness policy can no longer be met: nothing new is signed
    ├── IntegrityError                       [500] stored data contradicts itself; run hrledger fsck
    ├── VerificationError                    [500] a proof, signature or note failed to verify
    ├── TimestampError                       [502] the TSA is unreachable, refused, or answered wrongly
    │   └── TimestampVerificationError       [502] a token does not prove what it claims
    ├── ProjectionGapError                   [500] a projection is out of step with the log (rebuilt)
    └── DataDirError                         [500] the data directory is missing, foreign or unreadable

Two exceptions sit outside the tree on purpose, because they never reach a client: ``AppendConflict``
(``ledger.storage.base``: the tree head moved under a commit; the sequencer re-reads and retries) and
``DeliveryFailed`` (``ledger.services.notify``: one webhook or mail attempt failed; the outbox retries).
The standalone verifier has its own small errors (``verifier``), since it imports nothing from here.
"""

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


class BadRequestError(ValidationError):
    """A malformed request rather than a semantically invalid event: bad JSON, bad query parameters."""

    title = "Bad request"


class PolicyError(ValidationError):
    """The policy file is wrong; ``field`` is the dotted key (``stages.reminder.overdue_days``)."""

    title = "Invalid policy"


class UnauthorizedError(LedgerError):
    """No bearer token, or one that is unknown or revoked."""

    title = "Unauthorized"

    def __init__(self, detail: str, *, invalid_token: bool) -> None:
        super().__init__(detail)
        self.invalid_token = invalid_token


class ForbiddenError(LedgerError):
    title = "Forbidden"


class NotFoundError(LedgerError):
    title = "Not found"


class ConflictError(LedgerError):
    """The same event_id was already recorded with other content."""

    title = "Conflict"


class CalendarError(LedgerError):
    """The working-day calendar cannot answer for a date; ``year`` is the missing year, if that is why."""

    title = "Working-day calendar incomplete"

    def __init__(self, message: str, *, year: int | None = None) -> None:
        super().__init__(message)
        self.year = year


class StorageError(LedgerError):
    """The store failed; the driver boundary translates driver exceptions into this."""

    title = "Storage error"


class StorageUnavailableError(StorageError):
    """The store cannot take writes right now (read-only, full, lease lost); retrying later may work."""

    title = "Storage unavailable"


class CheckpointTimeoutError(StorageUnavailableError):
    """The entries are committed but no checkpoint covered them in time; replaying the request is safe."""

    title = "Checkpoint not yet published"


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


class TimestampError(LedgerError):
    """A timestamp could not be obtained: the TSA is unreachable, refused, or answered something wrong."""

    title = "Timestamp error"


class TimestampVerificationError(TimestampError):
    """A timestamp does not prove what it is claimed to prove (other bytes, untrusted or bad signature)."""

    title = "Timestamp verification failed"


class ProjectionGapError(LedgerError):
    """A fact arrived out of seq order: the projector's position is wrong; rebuild it from the log."""

    title = "Projection out of step"


class DataDirError(LedgerError):
    """The data directory is missing, foreign or unreadable."""

    title = "Data directory error"
