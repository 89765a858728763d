"""Publishing: signing checkpoints of the committed tree, as a loop of its own.

The publisher reads the committed tree from storage, proves the new root consistent with the last
published checkpoint and only then signs, so the log never signs two roots for one size nor a root
inconsistent with the previous one. A transient store failure is retried with backoff; a refusal to
sign is kept in ``publish_error`` (``/healthz`` shows it) and nothing is signed until the cause is fixed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from ledger.core.entries import format_recorded_at
from ledger.core.notes import CheckpointBody, Signer, sign_checkpoint
from ledger.core.records import StoredCheckpoint
from ledger.core.wire import verify_checkpoint, verify_consistency
from ledger.errors import IntegrityError, LedgerError, SigningHeldError, StorageUnavailableError
from ledger.log.proofs import Proofs
from ledger.log.sequencer import CommitStats
from ledger.storage.base import Storage

log = logging.getLogger("hrledger.log")

PUBLISH_RETRY_MIN = 0.2
PUBLISH_RETRY_MAX = 10.0


class Publisher:
    """Signs checkpoints of the committed tree when it grows; see the module docstring."""

    def __init__(
        self, store: Storage, signer: Signer, proofs: Proofs, stats: CommitStats, *, clock: Callable[[], datetime]
    ) -> None:
        self.store = store
        self.signer = signer
        self.origin = signer.name
        self._proofs = proofs
        self.stats = stats
        self._clock = clock
        self._dirty = asyncio.Event()
        self._published = asyncio.Condition()
        self._published_size = -1
        self._closing = False
        self.publish_error: LedgerError | None = None
        self._publish_listeners: list[Callable[[StoredCheckpoint], None]] = []
        #: why new checkpoints must not be signed now (a witness policy that can no longer be met), or None
        self.signing_hold: str | None = None

    async def start(self) -> None:
        latest = await self.store.latest_checkpoint()
        self._published_size = latest.size if latest else -1
        self._dirty.set()  # publish at once if entries were committed after the last checkpoint

    def add_publish_listener(self, listener: Callable[[StoredCheckpoint], None]) -> None:
        """Call ``listener(checkpoint)`` after each checkpoint this process signs is stored (the witness
        client submits it). It must be quick and must not raise."""
        self._publish_listeners.append(listener)

    def remove_publish_listener(self, listener: Callable[[StoredCheckpoint], None]) -> None:
        self._publish_listeners.remove(listener)

    def poke(self) -> None:
        """The committed tree may have grown: publish soon."""
        self._dirty.set()

    def close(self) -> None:
        self._closing = True
        self._dirty.set()

    async def run(self) -> None:
        """The publishing loop, until closed."""
        delay = PUBLISH_RETRY_MIN
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            try:
                await self.publish_checkpoint()
            except StorageUnavailableError as exc:
                # Transient (disk full, lost lease): say so and try again, backing off.
                self.publish_error = exc
                log.warning("checkpoint not published yet, retrying in %.1f s: %s", delay, exc)
                if not self._closing:
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, PUBLISH_RETRY_MAX)
                    self._dirty.set()
            except LedgerError as exc:
                # Refusing to sign is the point: keep serving reads, say why, and let fsck find the cause.
                self.publish_error = exc
                log.error("checkpoint not published: %s", exc)
            else:
                self.publish_error = None
                delay = PUBLISH_RETRY_MIN
            if self._closing:
                return

    async def publish_checkpoint(self) -> StoredCheckpoint | None:
        """Sign the committed tree if it grew; refuses a root inconsistent with the last checkpoint."""
        # The checkpoint first: another process may commit and publish between the two reads, and the
        # tree read second is then at least as large as any checkpoint read first.
        latest = await self.store.latest_checkpoint()
        size = await self.store.tree_size()
        if latest is not None and latest.size >= size:
            if latest.size > size:
                raise IntegrityError(f"published checkpoint size {latest.size} is beyond the stored tree ({size})")
            await self._announce(latest.size)
            return latest
        if self.signing_hold is not None:
            raise SigningHeldError(f"not signing size {size}: {self.signing_hold}")
        root = await self._proofs.root(size)
        if latest is not None:
            verify_checkpoint(latest.note, self.signer.verifier(), origin=self.origin)
            proof = await self._proofs.consistency_proof(latest.size, size)
            try:
                verify_consistency(latest.size, size, latest.root, root, proof)
            except LedgerError as exc:
                raise IntegrityError(
                    f"refusing to sign size {size}: not consistent with checkpoint {latest.size}: {exc}"
                ) from None
        note = sign_checkpoint(CheckpointBody(self.origin, size, root), self.signer)
        checkpoint = StoredCheckpoint(size, root, note, format_recorded_at(self._clock()))
        await self.store.add_checkpoint(checkpoint)
        self.stats.checkpoints_published += 1
        for listener in self._publish_listeners:
            try:
                listener(checkpoint)
            except Exception:  # a listener's bug must not stop the log from publishing
                log.exception("a checkpoint listener failed")
        await self._announce(size)
        return checkpoint

    async def _announce(self, size: int) -> None:
        async with self._published:
            if size > self._published_size:
                self._published_size = size
            self._published.notify_all()

    async def wait_for_checkpoint(self, size: int, timeout: float = 10.0) -> StoredCheckpoint:
        """Wait until a published checkpoint covers the first ``size`` entries."""

        async def covered() -> None:
            async with self._published:
                await self._published.wait_for(lambda: self._published_size >= size)

        async with asyncio.timeout(timeout):  # not wait_for: on 3.11 it can swallow a cancellation
            await covered()
        latest = await self.store.latest_checkpoint()
        assert latest is not None and latest.size >= size
        return latest
