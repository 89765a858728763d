"""The service timestamps its checkpoints with a real local TSA (openssl ts), and bundles carry the tokens."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from cryptography.x509 import load_pem_x509_certificates

from api.app import create_app
from api.config import STORE, AppConfig
from ledger.admin.datadir import init_datadir
from ledger.services.timestamping import RECORD_KIND
from tests.support.api import ORIGIN, AiohttpClient, Api, make_tokens, wait_until
from tests.support.tsa import TSA
from verifier.check import verify_bundle
from verifier.note import parse_vkey


async def test_checkpoints_are_timestamped_and_bundled(
    tmp_path: Path, aiohttp_client: AiohttpClient, tsa: TSA, store_uri: str | None
) -> None:
    tsa.fault = None
    data = tmp_path / "d"
    init_datadir(data, origin=ORIGIN, store_uri=store_uri)
    tokens = await make_tokens(data)
    app = create_app(
        AppConfig(
            data_dir=data,
            access_log=False,
            tick_seconds=0,
            tsa_url=tsa.url,
            tsa_interval=0.2,
            tsa_root=tsa.root_pem_path,
        )
    )
    api = Api(await aiohttp_client(app), app, data, tokens)
    resp = await api.post(
        {
            "event_id": "in-1",
            "type": "attendance.clock_in",
            "subject": "E5",
            "occurred_at": "2026-02-02T08:58:00+08:00",
            "source": "hr",
            "data": {"method": "card"},
        },
        params={"wait": "checkpoint"},
    )
    assert resp.status == 201, await resp.text()
    store = app[STORE]

    async def stamped() -> bool:
        return any(doc["size"] == 1 for _, doc in await store.list_records(RECORD_KIND))

    await wait_until(stamped, timeout=15)
    resp = await api.client.post(
        "/v1/bundles", json={"subject": "E5", "from": "2026-02-01", "to": "2026-02-28"}, headers=api.auth("legal")
    )
    assert resp.status == 200, await resp.text()
    bundle = await resp.read()
    with zipfile.ZipFile(io.BytesIO(bundle)) as z:
        assert "timestamps/1.tsr" in z.namelist()
    vkey = parse_vkey((await (await api.get("/v1/log")).json())["vkey"])
    result = verify_bundle(bundle, vkey, tsa_roots=load_pem_x509_certificates(tsa.root_pem), name="b.zip")
    assert result.ok, result.failures
