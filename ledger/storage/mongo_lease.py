"""The lease port (``ledger.storage.leases.LeaseStore``) on MongoDB: one document per lease in ``lease``.

Each change is one conditional single-document update (or an insert that a unique ``_id`` makes
exclusive), written with the store's majority write concern, so two processes never both win a round.
"""

from __future__ import annotations

from typing import Any

from pymongo.errors import DuplicateKeyError

from ledger.storage.leases import LeaseRecord
from ledger.storage.mongo_errors import guard


class MongoLeaseStore:
    """Lease documents ``{_id: name, holder, term, expires_ms}`` in the ``lease`` collection of ``db``."""

    def __init__(self, db: Any) -> None:
        self._collection = db.lease

    async def read(self, name: str) -> LeaseRecord | None:
        """The lease document, or None."""
        async with guard("lease read"):
            return LeaseRecord.from_doc(await self._collection.find_one({"_id": name}))

    async def try_create(self, name: str, record: LeaseRecord) -> bool:
        """Insert; a duplicate ``_id`` means another process created it first."""
        async with guard("lease create"):
            try:
                await self._collection.insert_one(
                    {"_id": name, "holder": record.holder, "term": record.term, "expires_ms": record.expires_ms}
                )
            except DuplicateKeyError:
                return False
            return True

    async def try_take(self, name: str, current: LeaseRecord, new: LeaseRecord) -> bool:
        """Replace only if every field is still as read."""
        async with guard("lease take"):
            result = await self._collection.update_one(
                {"_id": name, "holder": current.holder, "term": current.term, "expires_ms": current.expires_ms},
                {"$set": {"holder": new.holder, "term": new.term, "expires_ms": new.expires_ms}},
            )
            return bool(result.matched_count == 1)

    async def renew(self, name: str, holder: str, term: int, expires_ms: int) -> bool:
        """Extend if still held by ``holder`` under ``term``."""
        async with guard("lease renew"):
            result = await self._collection.update_one(
                {"_id": name, "holder": holder, "term": term}, {"$set": {"expires_ms": expires_ms}}
            )
            return bool(result.matched_count == 1)

    async def release(self, name: str, holder: str, term: int) -> None:
        """Expire now if still held by ``holder`` under ``term``."""
        async with guard("lease release"):
            await self._collection.update_one(
                {"_id": name, "holder": holder, "term": term}, {"$set": {"expires_ms": 0}}
            )
