"""The service on the MongoDB driver (nx-27017, or HRLEDGER_MONGODB_URI): the sequencer lease is taken at
start, events are committed and signed, proofs verify, and the lease is released on shutdown."""

from __future__ import annotations

import base64
from pathlib import Path

from api.app import create_app
from api.config import AppConfig
from ledger import merkle
from ledger.datadir import init_datadir
from ledger.notes import verify_checkpoint
from tests.mongo_server import fresh_uri
from tests.test_api_support import ORIGIN, AiohttpClient, Api, event, make_tokens


async def test_service_on_mongodb_commits_signs_and_proves(tmp_path: Path, aiohttp_client: AiohttpClient,
                                                            mongo_uri: str) -> None:
    uri = fresh_uri(mongo_uri)
    data = tmp_path / "d"
    init_datadir(data, origin=ORIGIN, store_uri=uri)
    tokens = await make_tokens(data)
    app = create_app(AppConfig(data_dir=data, access_log=False, tick_seconds=0, auth_failure_burst=1000))
    api = Api(await aiohttp_client(app), app, data, tokens)
    resp = await api.post({"events": [event(i) for i in range(5)]}, params={"wait": "checkpoint"})
    assert resp.status == 201, await resp.text()
    body = await resp.json()
    assert [r["seq"] for r in body["results"]] == [0, 1, 2, 3, 4]
    note = (await (await api.get("/v1/checkpoint")).read())
    cp = verify_checkpoint(note, api.verifier, origin=ORIGIN)
    assert cp.size == 5
    entry = await (await api.get("/v1/entries/3")).json()
    proof = await (await api.get("/v1/proofs/inclusion", seq=3, tree_size=5)).json()
    merkle.verify_inclusion(merkle.leaf_hash(entry["entry"].encode()), 3, 5,
                            [base64.b64decode(h) for h in proof["proof"]], cp.root_hash)
    replay = await api.post(event(3))
    assert replay.status == 200 and (await replay.json())["seq"] == 3
