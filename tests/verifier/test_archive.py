"""Hostile zips (``verifier.archive``, step 1): each SPEC section 5 limit refused by name, memory bounded while
reading, and every damaged archive a failure with a message (exit 1), never a traceback."""

from __future__ import annotations

import functools
import io
import random
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.core.bundle import build_bundle
from tests.support.bundles import read, sample_log, signer, zip_files
from verifier.archive import Limits, name_problem
from verifier.check import verify_bundle
from verifier.cli import run
from verifier.receipts import ReceiptFile

KEY = signer()


@pytest.fixture(scope="module")
def genuine() -> bytes:
    return build_bundle(sample_log().inputs())


def with_member(bundle: bytes, name: str, data: bytes = b"x", *, attr: int = 0o644 << 16) -> bytes:
    """The bundle with one more member, written by zipfile with these Unix mode bits."""
    buf = io.BytesIO(bundle)
    with zipfile.ZipFile(buf, "a") as zf:
        info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
        info.create_system, info.external_attr = 3, attr
        zf.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def patch_member(raw: bytes, name: str, *, flags: int | None = None, method: int | None = None) -> bytes:
    """Set a member's general-purpose flags or compression method in both its headers (what zipfile will not
    write: an encrypted member, an unknown method)."""
    data = bytearray(raw)
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        info, at = zf.getinfo(name), zf.start_dir
    local = info.header_offset
    while data[at : at + 4] == b"PK\x01\x02":
        n, m, k = struct.unpack_from("<3H", data, at + 28)
        if data[at + 46 : at + 46 + n] == name.encode():
            for base, offset in ((local, 6), (at, 8)):
                if flags is not None:
                    struct.pack_into("<H", data, base + offset, flags)
                if method is not None:
                    struct.pack_into("<H", data, base + offset + 2, method)
        at += 46 + n + m + k
    return bytes(data)


def failures(data: bytes, limits: Limits | None = None) -> list[str]:
    result = verify_bundle(data, KEY.verifier(), limits=limits) if limits else verify_bundle(data, KEY.verifier())
    assert not result.ok
    return [f for f in result.failures if f.startswith("step 1: ")]


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("../x", "has '..' in its name"),
        ("entries/../../x", "has '..' in its name"),
        ("/etc/passwd", "has an absolute path"),
        ("C:/x", "has an absolute path"),
        ("entries\\1.json", "has a backslash"),
        ("report\u202elmth.exe", "the control, format or bidirectional character U+202E"),
        ("a\u200bb", "U+200B"),
        ("a\x1bb", "U+001B"),
        ("entries/", "is a directory"),
        ("", "empty name"),
    ],
)
def test_member_names(name: str, why: str) -> None:
    problem = name_problem(name)
    assert problem is not None and why in problem, problem


def test_hostile_members_are_named_and_nothing_is_read(genuine: bytes) -> None:
    files = read(genuine)
    cases: list[tuple[bytes, str]] = [
        (zip_files({**files, "../evil": b"x"}), "member '../evil' has '..' in its name"),
        (zip_files({**files, "report\u202etxt.html": b"x"}), "U+202E"),
        (with_member(genuine, "link", b"/etc/passwd", attr=0o120777 << 16), "member 'link' is a symbolic link"),
        (with_member(genuine, "dir", b"data inside", attr=(0o40755 << 16) | 0x10), "member 'dir' is"),
        (with_member(genuine, "dos-dir", b"", attr=0x10), "member 'dos-dir' is a directory"),
        (with_member(genuine, "fifo", b"x", attr=0o10644 << 16), "member 'fifo' is not a regular file"),
        (patch_member(with_member(genuine, "secret"), "secret", flags=0x1), "member 'secret' is encrypted"),
        (patch_member(with_member(genuine, "bz"), "bz", method=12), "uses compression method 12"),
    ]
    for data, why in cases:
        got = failures(data)
        assert any(why in f for f in got), (why, got)
        result = verify_bundle(data, KEY.verifier())
        assert [s.status for s in result.steps.values()] == ["failed"] + ["not checked"] * 10


def test_duplicate_names_are_refused(genuine: bytes) -> None:
    buf = io.BytesIO(genuine)
    with zipfile.ZipFile(buf, "a") as zf, pytest.warns(UserWarning, match="Duplicate name"):
        zf.writestr("checkpoint", b"another checkpoint\n")
    assert "step 1: member 'checkpoint' appears twice in the archive" in failures(buf.getvalue())


def test_overlapping_members_are_refused() -> None:
    """Two directory entries pointing at one local file: the overlap behind non-recursive zip bombs."""
    raw = zip_files({"a": b"payload" * 100})
    cd, eocd = raw.index(b"PK\x01\x02"), raw.index(b"PK\x05\x06")
    central = raw[cd:eocd]
    twin = central[:46] + b"b" + central[47:]  # the same local header offset, another name
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 2, 2, len(central) * 2, cd, 0)
    got = failures(raw[:cd] + central + twin + end)
    assert any("overlaps" in f for f in got), got


def test_a_zip_bomb_is_stopped_at_the_member_limit_with_bounded_memory() -> None:
    """One member that inflates to 100 MiB from a 100 KiB zip: refused once 64 MiB are read."""
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("entries/0.json", b"\0" * (100 * 1024 * 1024))
    assert len(bomb.getvalue()) < 200_000
    got = failures(bomb.getvalue())
    assert got == [
        "step 1: member 'entries/0.json' is refused: it unpacks to more than the limit of 67108864 bytes per member"
    ]


def test_the_total_and_member_count_limits(genuine: bytes) -> None:
    small = Limits(members=100_000, member=64 * 1024 * 1024, total=20_000)
    assert any("more than the limit of 20000 bytes in all" in f for f in failures(genuine, small))
    assert failures(genuine, Limits(members=10)) == ["step 1: the archive has 24 members, more than the limit of 10"]


@pytest.mark.parametrize(
    ("damage", "why"),
    [
        (lambda b: b[: len(b) // 2], "not a readable zip archive"),
        (lambda b: b"", "not a readable zip archive"),
        (lambda b: b"PK\x05\x06" + b"\0" * 18, ""),
        (lambda b: b[:100] + bytes(50) + b[150:], ""),
    ],
    ids=["truncated", "empty", "only-end-record", "smashed-header"],
)
def test_damaged_archives_fail_with_a_message(
    tmp_path: Path, genuine: bytes, damage: Callable[[bytes], bytes], why: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "damaged.zip"
    path.write_bytes(damage(genuine))
    assert run([str(path), "--vkey", KEY.vkey]) == 1
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err and why in out.out
    assert "RESULT:" in out.out


def test_a_crc_mismatch_is_a_member_failure() -> None:
    stored = io.BytesIO()
    with zipfile.ZipFile(stored, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("checkpoint", b"abc\n")
    data = bytearray(stored.getvalue())
    data[data.index(b"abc")] ^= 1
    got = failures(bytes(data))
    assert any("member 'checkpoint' cannot be read: Bad CRC-32" in f for f in got), got


@functools.cache
def _sample() -> bytes:
    """The genuine bundle, built once (not a fixture: hypothesis would print its 40 kB on a failure)."""
    return build_bundle(sample_log().inputs(old_sizes=[3]))


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32), flips=st.integers(1, 8))
def test_random_damage_to_the_zip_never_raises(seed: int, flips: int) -> None:
    rng = random.Random(seed)
    data = bytearray(_sample())
    for _ in range(flips):
        data[rng.randrange(len(data))] = rng.randrange(256)
    result = verify_bundle(bytes(data), KEY.verifier())  # a result either way: nothing raised
    assert result.ok or result.failures


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32), edits=st.integers(1, 4))
def test_random_damage_to_members_never_raises(seed: int, edits: int) -> None:
    """Inside a well-formed zip: bytes changed, cut or inserted anywhere in any member, the receipt too."""
    rng = random.Random(seed)
    files = read(_sample())
    for _ in range(edits):
        name = rng.choice(sorted(files))
        data, at = bytearray(files[name]), rng.randrange(max(1, len(files[name])))
        data[at : at + rng.randint(0, 40)] = bytes(rng.randrange(256) for _ in range(rng.randint(0, 20)))
        files[name] = bytes(data)
    receipt = ReceiptFile("r.tlog-proof", files.get("proofs/3.tlog-proof", b""))
    result = verify_bundle(zip_files(files), KEY.verifier(), receipts=[receipt])
    assert result.ok or result.failures
