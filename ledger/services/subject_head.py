"""The subject-head statement (SPEC section 1): what the log claims of one subject in one published tree.

An employee's representative or an auditor asks for it and keeps it: it pins the subject's chain head and
entry count in a tree the log signed, so a later bundle that stops earlier, or a log that forks, is shown
up by a statement the log's own key made (``GET /v1/subjects/{subject}/head``).
"""

from __future__ import annotations

from ledger.core.statements import sign_subject_head
from ledger.errors import NotFoundError
from ledger.log import Log

PAGE = 2000


async def subject_head_statement(log: Log, subject: str, tree_size: int | None = None) -> bytes:
    """The signed statement for ``subject`` in the published tree of ``tree_size`` (default: the latest)."""
    store = log.store
    checkpoint = await log.latest_checkpoint() if tree_size is None else await store.get_checkpoint(tree_size)
    if checkpoint is None:
        which = "yet" if tree_size is None else f"of tree size {tree_size}"
        raise NotFoundError(f"no checkpoint {which} has been published; a statement needs a published tree")
    size = checkpoint.size
    heads = await store.subject_heads([subject], tree_size=size)
    count, from_seq = 0, 0
    while page := await log.entries(subject=subject, from_seq=from_seq, limit=PAGE):
        count += sum(1 for e in page if e.seq < size)
        if page[-1].seq >= size - 1:
            break
        from_seq = page[-1].seq + 1
    return sign_subject_head(
        log.signer, tree_size=size, root=checkpoint.root, subject=subject, head=heads.get(subject), count=count
    )
