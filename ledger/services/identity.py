"""Which log a store holds: the public verifier key, recorded in the store by the first data dir that uses it.

Several service hosts share one MongoDB store, each with a data dir holding the signing key. A host set up
with another key must not sign for that log, even when the store is still empty and no checkpoint yet says
whose it is. So the first ``hrledger init`` (or the first start of a service on a store made before this
record existed) writes ``{"vkey", "origin"}`` under ``ledger/identity``; every later init and every
service start compares its own key with it. Only the public key is stored: the private key never is.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.core.notes import Signer
from ledger.core.wire import verify_checkpoint
from ledger.errors import DataDirError, LedgerError
from ledger.storage.base import Storage

KIND, KEY = "ledger", "identity"


@dataclass(frozen=True)
class Claim:
    created: bool  # this call bound a new, empty store to the key
    size: int  # the tree size found


async def claim_store(store: Storage, signer: Signer) -> Claim:
    """Bind the store to ``signer``'s log, or prove it already is that log; DataDirError otherwise."""
    vkey = signer.vkey
    record = await store.get_record(KIND, KEY)
    if record is not None:
        if record.get("vkey") != vkey:
            raise DataDirError(
                f"the store holds the log of key {record.get('vkey')!r}, not of this data dir's key "
                f"{vkey!r}; give that log's key (init --key), or another store"
            )
        return Claim(created=False, size=await store.tree_size())
    latest, size = await store.latest_checkpoint(), await store.tree_size()
    if latest is None and size > 0:
        raise DataDirError(
            f"the store holds {size} entries and no checkpoint, so whose log it is cannot be "
            "checked; give an empty store, or start the service on the data dir that made it"
        )
    if latest is not None:
        try:
            verify_checkpoint(latest.note, signer.verifier(), origin=signer.name)
        except LedgerError as exc:
            raise DataDirError(
                f"the store holds another log (its checkpoint at size {latest.size} does not "
                f"verify with this key and origin: {exc}); give an empty store, or init --key "
                "with the key of that log"
            ) from None
    await store.put_record(KIND, KEY, {"vkey": vkey, "origin": signer.name})
    written = await store.get_record(KIND, KEY)  # two first claims at once: the last write wins, the other stops
    if written is None or written.get("vkey") != vkey:
        raise DataDirError("another data dir claimed this store at the same moment with another key")
    return Claim(created=latest is None, size=size)
