"""``hrledger witness``: a witness for a neutral party (a law firm, a notary, a union) to run.

It speaks C2SP tlog-witness v1.0.0 (``POST /add-checkpoint``) and cosigns with C2SP tlog-cosignature v1.0.1:
it keeps the latest checkpoint it cosigned for each log it knows, and cosigns a new one only when the log's
signature verifies and a consistency proof ties it to that latest one. So it never cosigns two roots for one
size, nor a checkpoint inconsistent with the last. Its state is stored durably before it answers.

- ``protocol``: reading a request and the checks, with the status each failure gets (no I/O);
- ``state``: the SQLite file (latest checkpoint per log, refused requests kept as evidence);
- ``server``: the HTTP app, the per-client rate limit and the runner;
- ``datadir``: the key file and the list of logs witnessed.

docs/witnesses.md says how to run one behind TLS and what a cosignature proves.
"""
