"""What ``hrledger serve`` tells a newcomer before it listens (``ledger.admin.commands.serve_guide``)."""

from __future__ import annotations

from ledger.admin.commands import serve_guide


def test_the_guide_names_the_token_the_api_and_the_workbench() -> None:
    text = serve_guide("http://127.0.0.1:8080", "hrl_secret", "./data", ".venv/bin/hrledger")
    assert "admin token (shown once, keep it): hrl_secret" in text
    assert "Authorization: Bearer hrl_secret" in text and "/v1/events?wait=checkpoint" in text
    assert "workbench for HR and legal staff: http://127.0.0.1:8080/" in text
    assert ".venv/bin/hrledger user create --data ./data --role hr --name wang.li" in text


def test_without_a_new_token_it_says_how_to_make_one() -> None:
    text = serve_guide("http://127.0.0.1:8080", None, "/srv/ledger")
    assert "hrledger token create --data /srv/ledger --role writer|auditor|legal|hr|admin --name NAME" in text
    assert "Bearer <your token>" in text
