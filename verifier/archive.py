"""Step 1: reading the zip as a hostile party may have made it (SPEC section 5, zip limits).

At most 100,000 members, 64 MiB per member and 1 GiB in all, counted while reading (a member's declared
size is not trusted); names without ``..``, absolute paths, backslashes, control, format or bidirectional
characters, and no duplicate names; no directories, symlinks, encrypted or overlapping members; stored or
deflated only. A member that breaks a rule is named and left unread; an archive that cannot be read at
all raises ArchiveError. Nothing here raises anything else.
"""

from __future__ import annotations

import io
import stat
import struct
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from verifier.text import ESCAPED_CATEGORIES, shown

MAX_MEMBERS = 100_000
MAX_MEMBER = 64 * 1024 * 1024
MAX_TOTAL = 1024 * 1024 * 1024
_CHUNK = 1024 * 1024
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")  # zipfile's own layout of a local file header (30 bytes)
_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED}


class ArchiveError(Exception):
    """The bundle is not a readable zip archive at all (a failure of step 1, not a usage error)."""


def name_problem(name: str) -> str | None:
    """Why a member name is refused, or None."""
    if not name:
        return "a member has an empty name"
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return f"member {shown(name)!r} has an absolute path"
    if "\\" in name:
        return f"member {shown(name)!r} has a backslash in its name"
    if ".." in name.split("/") or ".." in name:
        return f"member {shown(name)!r} has '..' in its name"
    for ch in name:
        if unicodedata.category(ch) in ESCAPED_CATEGORIES:
            return f"member {shown(name)!r} has the control, format or bidirectional character U+{ord(ch):04X}"
    if name.endswith("/"):
        return f"member {shown(name)!r} is a directory"
    return None


def _member_problem(info: zipfile.ZipInfo) -> str | None:
    if problem := name_problem(info.filename):
        return problem
    name = shown(info.filename)
    kind = stat.S_IFMT(info.external_attr >> 16)
    if info.create_system == 3 and kind == stat.S_IFLNK:
        return f"member {name!r} is a symbolic link"
    if info.create_system == 3 and kind not in (0, stat.S_IFREG):
        return f"member {name!r} is not a regular file (mode {kind:o})"
    if info.external_attr & 0x10:  # the MS-DOS directory attribute
        return f"member {name!r} is a directory"
    if info.flag_bits & 0x1:
        return f"member {name!r} is encrypted"
    if info.compress_type not in _METHODS:
        return f"member {name!r} uses compression method {info.compress_type}; only stored and deflated are read"
    return None


def _overlaps(fp: BinaryIO, infos: list[zipfile.ZipInfo], directory_start: int) -> list[str]:
    """Members whose data overlaps another member's or the central directory (a zip-bomb technique)."""
    spans: list[tuple[int, int, str]] = []
    problems: list[str] = []
    for info in infos:
        fp.seek(info.header_offset)
        header = fp.read(_LOCAL_HEADER.size)
        if len(header) != _LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
            problems.append(f"member {shown(info.filename)!r} has no local header where the directory says")
            continue
        fields = _LOCAL_HEADER.unpack(header)
        name_len, extra_len = fields[-2], fields[-1]
        end = info.header_offset + _LOCAL_HEADER.size + name_len + extra_len + info.compress_size
        spans.append((info.header_offset, end, info.filename))
    spans.sort()
    for (_, end, name), following in zip(spans, [*spans[1:], (directory_start, 0, "")], strict=True):
        if end > following[0]:
            what = f"member {shown(following[2])!r}" if following[2] else "the central directory"
            problems.append(f"member {shown(name)!r} overlaps {what}")
    return problems


@dataclass(frozen=True)
class Limits:
    members: int = MAX_MEMBERS
    member: int = MAX_MEMBER
    total: int = MAX_TOTAL


SPEC_LIMITS = Limits()


class _TooLarge(ValueError):
    pass


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int, limits: Limits) -> bytes:
    """The member's bytes, read in chunks and stopped at the member limit or at what is left of the total."""
    cap = min(limits.member, budget)
    parts: list[bytes] = []
    got = 0
    with zf.open(info) as f:
        while chunk := f.read(_CHUNK):
            got += len(chunk)
            if got > cap:
                which = f"{limits.member} bytes per member" if cap == limits.member else f"{limits.total} bytes in all"
                raise _TooLarge(f"it unpacks to more than the limit of {which}")
            parts.append(chunk)
    return b"".join(parts)


def read_zip(source: bytes | Path, limits: Limits = SPEC_LIMITS) -> tuple[dict[str, bytes], list[str]]:
    """The bundle's members by name, and what is wrong with the archive (each problem a step-1 failure)."""
    try:
        fp: BinaryIO = io.BytesIO(source) if isinstance(source, bytes) else source.open("rb")
    except OSError as exc:
        raise ArchiveError(f"cannot open the archive: {exc.strerror}") from None
    try:
        with fp, zipfile.ZipFile(fp) as zf:
            infos = zf.infolist()
            if len(infos) > limits.members:
                raise ArchiveError(f"the archive has {len(infos)} members, more than the limit of {limits.members}")
            problems: list[str] = []
            seen: set[str] = set()
            good: list[zipfile.ZipInfo] = []
            for info in infos:
                if info.filename in seen:
                    problems.append(f"member {shown(info.filename)!r} appears twice in the archive")
                    continue
                seen.add(info.filename)
                if problem := _member_problem(info):
                    problems.append(problem)
                    continue
                good.append(info)
            problems += _overlaps(fp, infos, zf.start_dir)
            if problems:  # a hostile archive: nothing of it is read
                return {}, problems
            files: dict[str, bytes] = {}
            total = 0
            for info in good:
                try:
                    files[info.filename] = data = _read_member(zf, info, limits.total - total, limits)
                except _TooLarge as exc:
                    problems.append(f"member {shown(info.filename)!r} is refused: {exc}")
                    if limits.total - total < limits.member:
                        break  # the total is spent: nothing more is read
                    continue
                except (
                    ValueError,
                    zipfile.BadZipFile,
                    EOFError,
                    OSError,
                    zlib.error,
                    NotImplementedError,
                    RuntimeError,
                    OverflowError,
                    struct.error,
                ) as exc:
                    problems.append(f"member {shown(info.filename)!r} cannot be read: {exc}")
                    continue
                total += len(data)
            return files, problems
    except ArchiveError:
        raise
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        EOFError,
        OSError,
        ValueError,
        struct.error,
        NotImplementedError,  # "zip file version 14.4": a header zipfile cannot read
        RuntimeError,
        OverflowError,
        zlib.error,
    ) as exc:
        raise ArchiveError(f"not a readable zip archive: {exc}") from None
