"""Property tests generated from the service's own OpenAPI document, against a real ``hrledger serve``.

Hypothesis draws an operation from ``GET /v1/openapi.json`` (plus methods the document does not list),
fills its path and query parameters from their schemas or with hostile text, picks a token of any role (or
a wrong one, or none) and, for POST /v1/events, a body that is a schema-shaped event, a batch, arbitrary
JSON or arbitrary bytes. Whatever it sends: no 5xx; every error is RFC 9457 problem+json whose ``status``
equals the HTTP status; and a request that fails appends nothing (the tree size is unchanged).

Hand-rolled strategies rather than schemathesis: the document is small, and this keeps the test suite's
dependencies to hypothesis (schemathesis brings ~20 packages and a pytest plugin into every test run).
"""

from __future__ import annotations

import asyncio
import http.client
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.admin.datadir import init_datadir
from tests.support.api import ORIGIN, make_tokens
from tests.support.stress import READY_PREFIX, ROOT


@dataclass
class Service:
    host: str
    port: int
    tokens: dict[str, str]
    doc: dict[str, Any]

    def request(
        self, method: str, target: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            conn.request(method, target, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        finally:
            conn.close()

    def tree_size(self) -> int:
        status, _, raw = self.request("GET", "/v1/log", headers={"Authorization": f"Bearer {self.tokens['auditor']}"})
        assert status == 200, raw
        size: int = json.loads(raw)["tree_size"]
        return size


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    data = tmp_path_factory.mktemp("openapi") / "d"
    init_datadir(data, origin=ORIGIN)
    tokens = asyncio.run(make_tokens(data))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ledger.admin.cli",
            "serve",
            "--data",
            str(data),
            "--port",
            "0",
            "--tick",
            "3600",
            "--auth-failure-burst",
            "1000000",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            if line.startswith(READY_PREFIX):
                break
        else:
            raise AssertionError("the service did not start")
        host, port = line.split()[-1].removeprefix("http://").rsplit(":", 1)
        service = Service(host, int(port), tokens, {})
        status, _, raw = service.request("GET", "/v1/openapi.json")
        assert status == 200
        service.doc = json.loads(raw)
        yield service
    finally:
        proc.terminate()
        proc.wait(30)
        proc.stdout.close()


HOSTILE = st.sampled_from(
    [
        "",
        " ",
        "-1",
        "1e3",
        "0x10",
        "9" * 30,
        "1.5",
        "' OR 1=1 --",
        '{"$gt": ""}',
        "$where",
        "../../etc/passwd",
        "%00",
        "\u0000",
        "null",
        "true",
        "[]",
        "\ud7ff",
        "NaN",
        "０",
        "٣",
    ]
)
TEXT = st.text(max_size=40) | HOSTILE
ROLES = st.sampled_from(["writer", "auditor", "legal", "admin", "revoked", "garbage", "none", "basic"])
TYPES = st.sampled_from(
    [
        "attendance.clock_in",
        "leave.requested",
        "custom.x",
        "escalation.stage_entered",
        "notice.issued",
        "Attendance.Clock_In",
        "custom.",
        "employee.enrolled",
    ]
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


def _value(schema: dict[str, Any]) -> st.SearchStrategy[str]:
    """A query or path value: valid for the schema, or hostile text."""
    if "enum" in schema:
        valid: st.SearchStrategy[str] = st.sampled_from([str(v) for v in schema["enum"]])
    elif schema.get("type") == "integer":
        low = schema.get("minimum", -5)
        valid = st.integers(low, schema.get("maximum", 2**64)).map(str)
    else:
        valid = st.text(max_size=20)
    return valid | TEXT


@st.composite
def events(draw: st.DrawFn) -> dict[str, Any]:
    now = datetime.now(UTC)
    occurred = draw(
        st.sampled_from(
            [
                (now - timedelta(days=1)).isoformat(),
                (now + timedelta(hours=1)).isoformat(),
                "2026-01-05T09:00:00+08:00",
                "2026-01-05 09:00",
                "yesterday",
            ]
        )
    )
    doc: dict[str, Any] = {
        "event_id": draw(st.text(min_size=0, max_size=130) | HOSTILE),
        "type": draw(TYPES),
        "subject": draw(TEXT),
        "occurred_at": occurred,
        "source": draw(TEXT),
        "data": draw(st.dictionaries(st.text(max_size=10), JSON, max_size=3) | st.just({"method": "face"}) | JSON),
    }
    for name in draw(st.lists(st.sampled_from(sorted(doc)), max_size=2, unique=True)):
        del doc[name]
    if draw(st.booleans()):
        doc[draw(st.text(min_size=1, max_size=10))] = draw(JSON)
    return doc


BODIES = (
    events()
    | st.builds(lambda items: {"events": items}, st.lists(events(), max_size=3))
    | JSON
    | st.binary(max_size=200)
)


@st.composite
def requests(draw: st.DrawFn, doc: dict[str, Any]) -> tuple[str, str, bytes | None, dict[str, str]]:
    path = draw(st.sampled_from(sorted(doc["paths"])))
    declared = sorted(doc["paths"][path])
    method = draw(st.sampled_from(declared) | st.sampled_from(["get", "post", "put", "delete", "patch"]))
    op = doc["paths"][path].get(method, next(iter(doc["paths"][path].values())))
    target, query = path, {}
    for param in op.get("parameters", []):
        if param["in"] == "path":
            target = target.replace("{" + param["name"] + "}", quote(draw(_value(param["schema"])), safe=""))
        elif param.get("required") or draw(st.booleans()):
            query[param["name"]] = draw(_value(param["schema"]))
    if draw(st.integers(0, 9)) == 0:
        query[draw(st.text(min_size=1, max_size=8))] = draw(TEXT)
    if query:
        target += "?" + urlencode(query)
    role = draw(ROLES)
    headers = {"Content-Type": "application/json"}
    body: bytes | None = None
    if method in ("post", "put", "patch"):
        raw = draw(BODIES)
        body = raw if isinstance(raw, bytes) else json.dumps(raw).encode("utf-8", "surrogatepass")
    return method.upper(), target, body, {**headers, **_auth(role)}


def _auth(role: str) -> dict[str, str]:
    return {
        "none": {},
        "garbage": {"Authorization": "Bearer hrl_not_a_token"},
        "basic": {"Authorization": "Basic YTpi"},
    }.get(role, {"Authorization": f"Bearer {role}"})


def check(service: Service, method: str, target: str, body: bytes | None, headers: dict[str, str]) -> None:
    auth = headers.get("Authorization", "")
    role = auth.removeprefix("Bearer ")
    if role in service.tokens:
        headers = {**headers, "Authorization": f"Bearer {service.tokens[role]}"}
    before = service.tree_size()
    status, got, raw = service.request(method, target, body, headers)
    assert status < 500, (method, target, body, status, raw[:500])
    if status >= 400:
        assert got.get("content-type", "").startswith("application/problem+json"), (method, target, status, got)
        problem = json.loads(raw)
        assert problem["status"] == status and problem["title"] and problem["detail"], problem
        assert problem["type"].startswith("https://hrledger.dev/problems/"), problem
        assert service.tree_size() == before, ("a failing request appended", method, target, body)


@settings(
    max_examples=int(__import__("os").environ.get("HRLEDGER_OPENAPI_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_requests_from_the_openapi_document(service: Service, data: st.DataObject) -> None:
    method, target, body, headers = data.draw(requests(service.doc))
    check(service, method, target, body, headers)


def test_every_documented_operation_answers_a_writer_and_an_auditor(service: Service) -> None:
    for path, ops in service.doc["paths"].items():
        for method in ops:
            target = path.replace("{seq}", "0")
            for role in ("writer", "auditor", "none"):
                check(service, method.upper(), target, b"{}" if method == "post" else None, _auth(role))
