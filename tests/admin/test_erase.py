"""hrledger erase beside a running service: the erased bytes leave every file of the data directory, the
delivery records lose the name, an open case needs --yes, and the company's entries are never erased."""

from __future__ import annotations

import asyncio
import stat
import sys
from pathlib import Path

from tests.api.test_domain_routes import SCENARIO, get, start
from tests.support.api import ROOT, AiohttpClient, wait_until
from tests.support.escalator import Receiver

MARKER = "张三-ERASE-ME-7f3a"  # the employee's name: personal data that must not survive the erasure


SCAN = """
import sys
from pathlib import Path
needle = bytes.fromhex(sys.argv[2])
print("\\n".join(sorted(p.name for p in Path(sys.argv[1]).iterdir() if p.is_file() and needle in p.read_bytes())))
"""


async def files_holding(data: Path, needle: bytes) -> list[str]:
    """The files of ``data`` holding ``needle``, read by another process: closing a file the service's SQLite
    has open, from inside its own process, would drop SQLite's POSIX locks on it (a known SQLite caveat)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", SCAN, str(data), needle.hex(), stdout=asyncio.subprocess.PIPE
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 30)
    return out.decode().split()


async def cli(*args: str) -> tuple[int, str, str]:
    """The real command line as its own process, beside the service (as an operator runs it)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "ledger.admin.cli",
        *args,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_erased_bytes_leave_every_file_of_the_data_directory(
    tmp_path: Path, aiohttp_client: AiohttpClient, receiver: Receiver
) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(f'[webhook]\nurl = "{receiver.url}"\nsecret = "k"\n', encoding="utf-8")
    api = await start(tmp_path, aiohttp_client, tick_seconds=0.05, policy_path=policy)
    events = [dict(e, data=dict(e["data"], name=MARKER)) if e["type"] == "employee.enrolled" else e for e in SCENARIO]
    assert (await api.post({"events": events})).status == 201

    async def delivered() -> bool:
        doc = await get(api, "/v1/webhooks/deliveries", "admin", status="delivered")
        return len(doc["deliveries"]) >= 1

    await wait_until(delivered)
    # the HR system got the name, looked up when the notice was sent; the outbox record never held it
    assert any(MARKER in body.decode() for _, body in receiver.requests)
    needle = MARKER.encode("utf-8")
    assert await files_holding(api.data, needle) != []  # the name is there before: the test can see it
    for path in api.data.iterdir():  # every file private while the service runs, -wal and -shm included
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    assert stat.S_IMODE(api.data.stat().st_mode) == 0o700

    code, _, err = await cli("erase", "--data", str(api.data), "--subject", "E1001")
    assert code == 1 and "open case(s): E1001/L1" in err and "--yes" in err and "Traceback" not in err
    code, out, err = await cli("erase", "--data", str(api.data), "--subject", "E1001", "--yes")
    assert code == 0, err
    # 3 facts, 5 stages and the 4 notices they drafted (whose kept documents, naming him, go too)
    assert "erased data of 12 entries of E1001" in out and "closed for good: E1001/L1" in out

    assert await files_holding(api.data, needle) == []
    deliveries = (await get(api, "/v1/webhooks/deliveries", "admin"))["deliveries"]
    assert deliveries and all(d["payload"]["name"] is None for d in deliveries)
    assert (await get(api, "/v1/cases"))["cases"] == []  # the service forgot it too


async def test_the_company_is_never_erased(tmp_path: Path, aiohttp_client: AiohttpClient) -> None:
    api = await start(tmp_path, aiohttp_client)
    code, _, err = await cli("erase", "--data", str(api.data), "--subject", "company")
    assert code == 1 and "never erased" in err and "Traceback" not in err
