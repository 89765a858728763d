"""The witness policy file (hrledger serve --witnesses FILE): what it accepts and what it names when wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.core.cosignature import Cosigner
from ledger.errors import ValidationError
from ledger.services.witness_policy import load_witness_policy, read_witness_policy

A = Cosigner("lawfirm.example/w", bytes(32)).vkey
B = Cosigner("union.example/w", b"u" * 32).vkey


def entry(vkey: str, url: str) -> str:
    return f'\n[[witness]]\nvkey = "{vkey}"\nurl = "{url}"\n'


def test_a_policy_with_two_witnesses() -> None:
    policy = load_witness_policy(
        "quorum = 1\ntimeout_seconds = 3\n"
        + entry(A, "https://w.lawfirm.example/")
        + entry(B, "http://10.0.0.2:8081/tlog")
    )
    assert policy.quorum == 1 and policy.timeout_seconds == 3.0 and policy.min_interval_seconds == 0.25
    assert [w.add_checkpoint_url for w in policy.witnesses] == [
        "https://w.lawfirm.example/add-checkpoint",
        "http://10.0.0.2:8081/tlog/add-checkpoint",
    ]
    assert [w.key.vkey for w in policy.witnesses] == [A, B]


def test_the_quorum_defaults_to_every_witness(tmp_path: Path) -> None:
    path = tmp_path / "w.toml"
    path.write_text(entry(A, "https://a.example") + entry(B, "https://b.example"), encoding="utf-8")
    assert read_witness_policy(path).quorum == 2


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("", "witness"),
        ("quorum = 3\n" + entry(A, "https://a.example") + entry(B, "https://b.example"), "quorum"),
        ("quorum = 0\n" + entry(A, "https://a.example"), "quorum"),
        ("quorum = true\n" + entry(A, "https://a.example"), "quorum"),
        (entry(A, "ftp://a.example"), "witness[0].url"),
        (entry(A, "https://a.example/?x=1"), "witness[0].url"),
        (entry("lawfirm.example/w+00000000+AAAA", "https://a.example"), "witness[0].vkey"),
        (entry(A, "https://a.example") + entry(A, "https://b.example"), "witness"),
        (entry(A, "https://a.example") + 'colour = "red"\n', "witness[0].colour"),
        ("quorums = 1\n" + entry(A, "https://a.example"), "quorums"),
        ("timeout_seconds = 0\n" + entry(A, "https://a.example"), "timeout_seconds"),
        ("witness = 1\n", "witness"),
        ("quorum = [\n", "witnesses"),
    ],
)
def test_mistakes_are_named(text: str, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        load_witness_policy(text)
    assert caught.value.field == field, caught.value


def test_an_unreadable_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="cannot read the witness policy file"):
        read_witness_policy(tmp_path / "missing.toml")
