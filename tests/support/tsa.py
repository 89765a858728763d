"""A real RFC 3161 Time Stamping Authority for tests: ``openssl ts -reply`` behind an aiohttp server.

``start_tsa(workdir)`` makes a root CA and a TSA signing certificate (EC P-256, extendedKeyUsage critical
timeStamping) with ``openssl req``/``openssl x509``, writes an ``openssl ts`` configuration, and serves
``POST /`` (``application/timestamp-query`` in, ``application/timestamp-reply`` out) on a free loopback
port from a background thread with its own event loop, so both sync and async tests can use it.

Replies embed only the signer certificate (no ``certs =`` chain in the config, no ``-chain``):
rfc3161-client refuses OpenSSL's unordered two-certificate set. Verify with the root alone:
``openssl ts -verify -in reply.tsr -data message -CAfile root.pem``.

Failure modes a test can switch on (``tsa.fault``), each answered with real bytes, never a mock:
``"http500"`` an HTTP error; ``"reject"`` an openssl rejection (a policy that allows no SHA-256);
``"replay"`` the previous reply again, whatever was asked (wrong nonce and imprint).
"""

from __future__ import annotations

import asyncio
import itertools
import socket
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

POLICY_OID = "1.3.6.1.4.1.55555.1.1"  # a private-arc test policy
QUERY_TYPE = "application/timestamp-query"
REPLY_TYPE = "application/timestamp-reply"

_EXT = """\
[ root_ext ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[ tsa_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation
extendedKeyUsage = critical, timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
"""

_TS_SECTION = """\
[ {name} ]
serial = {dir}/tsaserial
crypto_device = builtin
signer_cert = {dir}/tsa.pem
signer_key = {dir}/tsa.key
signer_digest = sha256
default_policy = {policy}
digests = {digests}
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def _openssl(*args: str, cwd: Path) -> None:
    done = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)} failed: {done.stderr.strip()}")


def make_pki(workdir: Path) -> None:
    """Root CA, TSA certificate signed by it, serial file and the ``openssl ts`` config, in ``workdir``."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "ext.cnf").write_text(_EXT)
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes")
    _openssl(
        "req",
        "-x509",
        *ec,
        "-keyout",
        "root.key",
        "-out",
        "root.pem",
        "-days",
        "3650",
        "-sha256",
        "-subj",
        "/O=hrledger tests/CN=hrledger test TSA root",
        "-config",
        "ext.cnf",
        "-extensions",
        "root_ext",
        cwd=workdir,
    )
    _openssl(
        "req",
        "-new",
        *ec,
        "-keyout",
        "tsa.key",
        "-out",
        "tsa.csr",
        "-subj",
        "/O=hrledger tests/CN=hrledger test TSA",
        "-config",
        "ext.cnf",
        cwd=workdir,
    )
    _openssl(
        "x509",
        "-req",
        "-in",
        "tsa.csr",
        "-CA",
        "root.pem",
        "-CAkey",
        "root.key",
        "-set_serial",
        "2",
        "-days",
        "3650",
        "-sha256",
        "-out",
        "tsa.pem",
        "-extfile",
        "ext.cnf",
        "-extensions",
        "tsa_ext",
        cwd=workdir,
    )
    (workdir / "tsaserial").write_text("01\n")
    d = str(workdir)
    (workdir / "ts.cnf").write_text(
        "[ tsa ]\ndefault_tsa = tsa_ok\n\n"
        + _TS_SECTION.format(name="tsa_ok", dir=d, policy=POLICY_OID, digests="sha256, sha384, sha512")
        + "\n"
        + _TS_SECTION.format(name="tsa_reject", dir=d, policy=POLICY_OID, digests="sha512")
    )


@dataclass
class TSA:
    """A running local TSA. ``fault`` may be set from any thread; ``replies`` counts granted replies."""

    url: str
    workdir: Path
    root_pem_path: Path
    signer_pem_path: Path
    fault: str | None = None
    requests: int = 0
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    @property
    def root_pem(self) -> bytes:
        return self.root_pem_path.read_bytes()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None


def _reply_app(tsa: TSA) -> web.Application:
    lock = asyncio.Lock()  # one openssl at a time: the serial file is read, incremented and rewritten
    counter = itertools.count()
    last_reply: list[bytes] = []

    async def handle(request: web.Request) -> web.StreamResponse:
        tsa.requests += 1
        fault = tsa.fault
        if fault == "http500":
            return web.Response(status=500, text="TSA out of order")
        if request.content_type != QUERY_TYPE:
            return web.Response(status=415, text=f"expected {QUERY_TYPE}")
        query = await request.read()
        if fault == "replay" and last_reply:
            return web.Response(body=last_reply[0], content_type=REPLY_TYPE)
        section = "tsa_reject" if fault == "reject" else "tsa_ok"
        async with lock:
            n = next(counter)
            qfile, rfile = tsa.workdir / f"q{n}.tsq", tsa.workdir / f"r{n}.tsr"
            qfile.write_bytes(query)
            done = await asyncio.to_thread(
                subprocess.run,
                [
                    "openssl",
                    "ts",
                    "-reply",
                    "-config",
                    str(tsa.workdir / "ts.cnf"),
                    "-section",
                    section,
                    "-queryfile",
                    str(qfile),
                    "-out",
                    str(rfile),
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode != 0 or not rfile.exists():
                return web.Response(status=400, text=f"openssl ts -reply failed: {done.stderr.strip()}")
            reply = rfile.read_bytes()
            qfile.unlink()
            rfile.unlink()
        if section == "tsa_ok":
            last_reply[:] = [reply]
        return web.Response(body=reply, content_type=REPLY_TYPE)

    app = web.Application(client_max_size=64 * 1024)
    app.router.add_post("/", handle)
    return app


def _serve(tsa: TSA, sock: socket.socket, ready: threading.Event, errors: list[BaseException]) -> None:
    async def main() -> None:
        runner = web.AppRunner(_reply_app(tsa), access_log=None)
        await runner.setup()
        try:
            await web.SockSite(runner, sock).start()
            ready.set()
            while not tsa._stop.is_set():
                await asyncio.sleep(0.05)
        finally:
            await runner.cleanup()

    try:
        asyncio.run(main())
    except BaseException as exc:  # surface startup failures to start_tsa
        errors.append(exc)
        ready.set()


def start_tsa(workdir: Path) -> TSA:
    """Create the PKI in ``workdir`` and serve the TSA on a free loopback port; call ``stop()`` when done."""
    workdir = Path(workdir)
    make_pki(workdir)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    tsa = TSA(
        url=f"http://127.0.0.1:{port}/",
        workdir=workdir,
        root_pem_path=workdir / "root.pem",
        signer_pem_path=workdir / "tsa.pem",
    )
    ready = threading.Event()
    errors: list[BaseException] = []
    tsa._thread = threading.Thread(target=_serve, args=(tsa, sock, ready, errors), name="test-tsa", daemon=True)
    tsa._thread.start()
    if not ready.wait(timeout=10) or errors:
        tsa.stop()
        raise RuntimeError(f"the test TSA did not start: {errors[0] if errors else 'timeout'}")
    return tsa


def openssl_verify(tsr: Path, data: Path, root_pem: Path) -> subprocess.CompletedProcess[str]:
    """What a court expert runs: ``openssl ts -verify -in TSR -data FILE -CAfile ROOT``."""
    return subprocess.run(
        ["openssl", "ts", "-verify", "-in", str(tsr), "-data", str(data), "-CAfile", str(root_pem)],
        capture_output=True,
        text=True,
        check=False,
    )
