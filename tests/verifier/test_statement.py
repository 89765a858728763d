"""The log's two other signed statements (``verifier.statement``, signed by ``ledger.core.statements``): exact
bytes, round trips, and every malformed or foreign statement refused."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

from ledger.core.notes import Signer, sign_note
from ledger.core.statements import sign_bundle_declaration, sign_subject_head
from ledger.errors import ValidationError
from verifier.note import NoteError
from verifier.statement import open_bundle_declaration, open_subject_head, subject_digest

ORIGIN = "hr.example.com/ledger"
KEY = Signer(ORIGIN, b"\x11" * 32)
ROOT = bytes(range(32))


def refused(message: str) -> pytest.RaisesExc[Exception]:
    return pytest.raises(NoteError, match=re.escape(message))


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def test_bundle_declaration_bytes_and_round_trip() -> None:
    manifest = b'{"format": "hrledger-bundle/2"}\n'
    note = sign_bundle_declaration(KEY, manifest)
    assert note.startswith(f"hrledger.dev/bundle/v2\n{ORIGIN}\n{b64(hashlib.sha256(manifest).digest())}\n\n".encode())
    declared = open_bundle_declaration(note, KEY.verifier())
    assert declared.origin == ORIGIN and declared.manifest_sha256 == hashlib.sha256(manifest).digest()


def test_subject_head_bytes_and_round_trip() -> None:
    note = sign_subject_head(KEY, tree_size=120, root=ROOT, subject="张三", head=117, count=9)
    body = f"hrledger.dev/subject-head/v1\n{ORIGIN}\n120\n{b64(ROOT)}\n{b64(subject_digest('张三'))}\n117\n9\n"
    assert note.startswith(body.encode() + b"\n")
    head = open_subject_head(note, KEY.verifier())
    assert (head.tree_size, head.root, head.head, head.count) == (120, ROOT, 117, 9)
    assert head.is_about("张三") and not head.is_about("张四")
    empty = open_subject_head(
        sign_subject_head(KEY, tree_size=5, root=ROOT, subject="E9", head=None, count=0), KEY.verifier()
    )
    assert empty.head is None and empty.count == 0


def test_statements_refused() -> None:
    v = KEY.verifier()
    other = Signer(ORIGIN, b"\x22" * 32)
    with refused("manifest.sig: no signature by a trusted key"):
        open_bundle_declaration(sign_bundle_declaration(other, b"m"), v)
    with refused("manifest.sig: line 1 is 'hrledger.dev/subject-head/v1', expected hrledger.dev/bundle/v2"):
        open_bundle_declaration(sign_subject_head(KEY, tree_size=1, root=ROOT, subject="E", head=0, count=1), v)
    checkpoint = sign_note(f"{ORIGIN}\n3\n{b64(ROOT)}\n", [KEY])
    with refused(f"subject head: line 1 is '{ORIGIN}', expected hrledger.dev/subject-head/v1"):
        open_subject_head(checkpoint, v)
    for body, why in [
        (f"hrledger.dev/bundle/v2\n{ORIGIN}\nAAAA\n", "the manifest SHA-256 has 3 bytes"),
        (f"hrledger.dev/bundle/v2\nother.example/log\n{b64(ROOT)}\n", "origin 'other.example/log' is not the key name"),
        (f"hrledger.dev/bundle/v2\n{ORIGIN}\n{b64(ROOT)}\nextra\n", "4 lines, expected 3"),
    ]:
        with refused(why):
            open_bundle_declaration(sign_note(body, [KEY]), v)
    head = f"hrledger.dev/subject-head/v1\n{ORIGIN}\n"
    for body, why in [
        (head + f"05\n{b64(ROOT)}\n{b64(ROOT)}\n1\n1\n", "line 3: '05' is not a decimal"),
        (head + f"5\n{b64(ROOT)}\n{b64(ROOT)}\nlast\n1\n", "line 6: 'last' is neither a seq nor none"),
        (head + f"5\n{b64(ROOT)}\n{b64(ROOT)}\n5\n1\n", "head 5 and count 1 do not fit a tree of size 5"),
        (head + f"5\n{b64(ROOT)}\n{b64(ROOT)}\nnone\n1\n", "head none and count 1 do not fit"),
        (head + f"5\n{b64(ROOT)}\nAAAA\n1\n1\n", "lines 4 and 5 must each be a base64 SHA-256 hash"),
    ]:
        with refused(why):
            open_subject_head(sign_note(body, [KEY]), v)
    with pytest.raises(ValidationError, match="the head must be a seq in the tree exactly when the count is not 0"):
        sign_subject_head(KEY, tree_size=5, root=ROOT, subject="E", head=None, count=2)
    with pytest.raises(ValidationError, match="names the log's signed statements"):
        sign_bundle_declaration(Signer("hrledger.dev/evil", b"\x33" * 32), b"m")
