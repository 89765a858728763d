"""The verifier's own small RFC 9162, C2SP note and RFC 8785 code, checked against independent references."""

from __future__ import annotations

import ast
import base64
import random
import struct
import sys
from pathlib import Path
from typing import Any

import pytest
import rfc8785

from tests.support.vectors import load_vectors
from verifier import jcs, merkle
from verifier.note import NoteError, parse_checkpoint, parse_tlog_proof, parse_vkey, verify_note

VECTORS = load_vectors()
VERIFIER = Path(__file__).parents[2] / "verifier"


def _b(items: list[str]) -> list[bytes]:
    return [base64.b64decode(x) for x in items]


def test_inclusion_vectors() -> None:
    leaves = [merkle.leaf_hash(x) for x in _b(VECTORS["leaves"])]
    roots = _b(VECTORS["roots"])
    assert VECTORS["inclusion"]
    for case in VECTORS["inclusion"]:
        i, n, proof = case["index"], case["size"], _b(case["proof"])
        assert merkle.root_from_inclusion(leaves[i], i, n, proof) == roots[n - 1]
        if proof:
            bad = [bytes([proof[0][0] ^ 1]) + proof[0][1:], *proof[1:]]
            assert merkle.root_from_inclusion(leaves[i], i, n, bad) != roots[n - 1]
            with pytest.raises(ValueError, match="fewer hashes"):
                merkle.root_from_inclusion(leaves[i], i, n, proof[:-1])
        with pytest.raises(ValueError, match="more hashes"):
            merkle.root_from_inclusion(leaves[i], i, n, [*proof, b"\0" * 32])


def test_consistency_vectors() -> None:
    roots = _b(VECTORS["roots"])
    assert VECTORS["consistency"]
    for case in VECTORS["consistency"]:
        m, n, proof = case["old_size"], case["size"], _b(case["proof"])
        assert merkle.check_consistency(m, n, roots[m - 1], roots[n - 1], proof) is None
        if m < n:
            assert merkle.check_consistency(m, n, roots[n - 1], roots[n - 1], proof) is not None
            for k in range(len(proof)):
                bad = list(proof)
                bad[k] = bytes([bad[k][0] ^ 1]) + bad[k][1:]
                assert merkle.check_consistency(m, n, roots[m - 1], roots[n - 1], bad) is not None


def test_note_vectors() -> None:
    vkey = parse_vkey(VECTORS["note_vkey"])
    for note in VECTORS["notes"]:
        cp = parse_checkpoint(note["signed"].encode())
        assert cp.note.text == note["text"] and cp.origin == vkey.name
        verify_note(cp.note, vkey)
        tampered = note["signed"].replace("\n", "\n ", 1).encode()
        with pytest.raises(NoteError):
            verify_note(parse_checkpoint(tampered).note, vkey)


def test_tlog_proof_parsing() -> None:
    cp = VECTORS["notes"][0]["signed"]
    h = base64.b64encode(b"\7" * 32).decode()
    proof = parse_tlog_proof(f"c2sp.org/tlog-proof@v1\nextra AAAA\nindex 5\n{h}\n\n{cp}".encode())
    assert proof.index == 5 and proof.hashes == (b"\7" * 32,) and proof.checkpoint == cp.encode()
    for bad in (
        "c2sp.org/tlog-proof@v2\nindex 5\n\n",
        "c2sp.org/tlog-proof@v1\nindex 05\n\n",
        "c2sp.org/tlog-proof@v1\nindex 5\n" + h,
    ):
        with pytest.raises(NoteError):
            parse_tlog_proof((bad + cp).encode() if bad.endswith("\n\n") else bad.encode())


@pytest.mark.parametrize("text", ["a+b", "name+0000000g+AAAA", "n+00000000+" + base64.b64encode(b"\1" * 33).decode()])
def test_bad_vkeys(text: str) -> None:
    with pytest.raises(NoteError):
        parse_vkey(text)


def test_es6_numbers_match_rfc8785() -> None:
    rng = random.Random(8785)
    samples = [
        0.0,
        -0.0,
        1.0,
        -1.5,
        0.1,
        1e21,
        1e20,
        1e-6,
        1e-7,
        123456789012345680000.0,
        5e-324,
        1.7976931348623157e308,
        333333333.3333333,
        2.0**53,
        9007199254740991.0,
        0.000001234,
        1e300,
    ]
    samples += [struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0] for _ in range(3000)]
    samples += [rng.uniform(-1e6, 1e6) for _ in range(1000)]
    checked = 0
    for x in samples:
        if x != x or x in (float("inf"), float("-inf")):
            with pytest.raises(jcs.CanonicalError):
                jcs.es6_number(x)
            continue
        assert jcs.canonicalize(x) == rfc8785.dumps(x), x
        checked += 1
    assert checked > 3500


def test_canonical_values_match_rfc8785() -> None:
    value: dict[str, Any] = {
        "z": [1, "é", None, True, False, {"\u20ac": 1, "\r": 2, 'a\u0001"\\': 0.5}],
        "\U0001f600": "x",
        "\ufb01": "lig",
        "weight": 1.25e-9,
        "n": -9007199254740991,
    }
    assert jcs.canonicalize(value) == rfc8785.dumps(value)
    with pytest.raises(jcs.CanonicalError):
        jcs.canonicalize(2**53)
    with pytest.raises(jcs.CanonicalError):
        jcs.canonicalize("\ud800")


def test_verifier_never_imports_ledger_or_api() -> None:
    allowed_third_party = {"nacl", "rfc3161_client", "cryptography"}
    files = sorted(VERIFIER.glob("*.py"))
    assert len(files) >= 8
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""] if node.level == 0 else ["verifier"]
            for name in names:
                top = name.split(".")[0]
                assert top not in ("ledger", "api"), f"{path.name} imports {name}"
                assert top == "verifier" or top in sys.stdlib_module_names or top in allowed_third_party, (
                    f"{path.name} imports {name}, which is neither the standard library nor PyNaCl"
                )
