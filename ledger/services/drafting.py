"""Drafted notices (SPEC section 4): 提醒, 催告函, 旷工通知书, 解除劳动合同通知书 and the publication text.

A draft is an A4 HTML document filled from the case facts with a template, recorded as ``notice.drafted``
with the SHA-256 of the document's exact bytes, so that the notice issued later (``notice.issued`` with
the same ``document_digest`` and ``draft_seq``) can be matched to it. The document itself is kept as a
record keyed by its digest (content-addressed, so two evaluations never overwrite one another), beside
the log rather than in it: the log holds its digest.

Templates are files (``templates/notices`` in this package) a company can copy and adapt; the service
reads a company's directory first (``hrledger serve --notice-templates DIR``) and falls back to these.
Each template declares ``{# version: N #}``; the recorded ``template_version`` is that version plus the
first 12 hex digits of the SHA-256 of the template sources, and the document names both, so an edited
template shows in every digest. Templates are rendered in Jinja2's sandbox with autoescaping: case
facts are untrusted text.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from ledger.core.entries import AT_RECORDING, Event, parse_leaf
from ledger.core.records import StoredEntry
from ledger.domain import Policy, Projector
from ledger.errors import CalendarError, LedgerError, NotFoundError, PolicyError, ValidationError
from ledger.services.notice_facts import TITLES, notice_facts
from ledger.storage.base import Storage, iter_entries

log = logging.getLogger("hrledger.drafting")
DRAFTED = "notice.drafted"
DOCUMENT_KIND = "notice_document"
TEMPLATE_DIR = Path(__file__).parent / "templates" / "notices"
SETTINGS_FILE = "notices.toml"
#: the notice each stage calls for (SPEC section 4); hr_alert is an internal alert and drafts nothing
STAGE_NOTICE = {
    "reminder": "reminder",
    "lost_contact": "return_demand",
    "absenteeism": "absenteeism",
    "termination_review": "termination",
}
KINDS = tuple(TITLES)
_VERSION = re.compile(r"\{#\s*version:\s*([0-9A-Za-z.\-]{1,32})\s*#\}")
MAX_ID = 128


class StageEntry(Protocol):
    """What the drafter reads of a stage decision (``ledger.domain.escalation.StageDecision``)."""

    @property
    def case_id(self) -> str: ...
    @property
    def stage(self) -> str: ...
    @property
    def occurrence(self) -> int: ...
    @property
    def reached_at(self) -> datetime: ...


@dataclass(frozen=True)
class DraftingSettings:
    """What a company writes into every notice: ``notices.toml`` beside the templates."""

    company_name: str = "（公司名称）"
    company_address: str = ""
    seal: str = "（公司盖章）"
    contact: str = "人力资源部"
    rule_book_title: str = "员工手册"
    rule_book_clause: str = ""
    return_within_days: int = 3
    expected_service_days: int = 3


def load_settings(text: str) -> DraftingSettings:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(SETTINGS_FILE, f"is not valid TOML: {exc}") from None
    defaults = DraftingSettings()
    values: dict[str, Any] = {}
    for key, value in doc.items():
        if not hasattr(defaults, key):
            raise PolicyError(f"{SETTINGS_FILE}.{key}", "unknown key")
        want = type(getattr(defaults, key))
        if type(value) is not want:
            raise PolicyError(f"{SETTINGS_FILE}.{key}", f"must be {'an integer' if want is int else 'a string'}")
        if want is int and not 0 <= value <= 366:
            raise PolicyError(f"{SETTINGS_FILE}.{key}", "must be from 0 to 366 days")
        values[key] = value
    return DraftingSettings(**values)


@dataclass(frozen=True)
class Draft:
    notice_id: str
    kind: str
    case_id: str
    subject: str
    html: bytes
    template: str
    template_version: str
    facts: Mapping[str, Any]

    @property
    def digest(self) -> str:
        return "sha256:" + hashlib.sha256(self.html).hexdigest()

    def data(self) -> dict[str, Any]:
        """The ``notice.drafted`` data (SPEC section 3)."""
        return {
            "notice_id": self.notice_id,
            "kind": self.kind,
            "document_digest": self.digest,
            "template": self.template,
            "template_version": self.template_version,
        }


class Templates:
    """The notice templates: a company's directory first, then the defaults shipped with hrledger."""

    def __init__(self, directory: Path | None = None) -> None:
        if directory is not None and not directory.is_dir():
            raise PolicyError("notice_templates", f"{directory} is not a directory of notice templates")
        self.directory = directory
        dirs = [str(d) for d in (directory, TEMPLATE_DIR) if d is not None]
        self.env = SandboxedEnvironment(
            loader=jinja2.FileSystemLoader(dirs),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
        )
        own = directory / SETTINGS_FILE if directory is not None else None
        path = own if own is not None and own.is_file() else TEMPLATE_DIR / SETTINGS_FILE
        try:
            self.settings_text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise PolicyError(SETTINGS_FILE, f"cannot read {path}: {exc}") from None
        self.settings = load_settings(self.settings_text)

    def _source(self, name: str) -> str:
        try:
            source, _, _ = self.env.loader.get_source(self.env, name)  # type: ignore[union-attr]
        except jinja2.TemplateNotFound:
            raise NotFoundError(f"no notice template {name!r}") from None
        return source

    def version(self, kind: str) -> tuple[str, str]:
        """(template_version, sha256 of the sources): the declared version plus what the files hold."""
        sources = [self._source(f"{kind}.html"), self._source("_base.html"), self.settings_text]
        found = _VERSION.search(sources[0])
        if found is None:
            raise PolicyError(f"{kind}.html", "declares no version: its first line must be {# version: N #}")
        digest = hashlib.sha256("\0".join(sources).encode("utf-8")).hexdigest()
        return f"{found.group(1)}+{digest[:12]}", "sha256:" + digest

    def render(self, kind: str, context: Mapping[str, Any]) -> bytes:
        try:
            return self.env.get_template(f"{kind}.html").render(context).encode("utf-8")
        except jinja2.TemplateError as exc:
            raise PolicyError(f"{kind}.html", f"the template does not render: {exc}") from None


def notice_id_for(case_id: str, kind: str, suffix: str = "") -> str:
    """The printed reference of a draft: ``<case>/<kind>`` (plus a suffix for a re-draft), hashed when long."""
    text = f"{case_id}/{kind}" + (f"/{suffix}" if suffix else "")
    if len(text) <= MAX_ID:
        return text
    return f"N-{hashlib.sha256(text.encode('utf-8')).hexdigest()[:32]}/{kind}" + (f"/{suffix}" if suffix else "")


class NoticeDrafter:
    """Fills templates from the projection and keeps each document; turns a new stage into its draft."""

    def __init__(
        self,
        store: Storage,
        policy: Policy,
        templates: Templates | None = None,
        *,
        projector: Callable[[], Projector] | None = None,
    ) -> None:
        self.store = store
        self.policy = policy
        self.templates = templates or Templates()
        self.projector = projector  # the live projection the escalator keeps (for the stage hook)

    def compose(
        self,
        projector: Projector,
        case_id: str,
        kind: str,
        as_of: datetime,
        *,
        notice_id: str | None = None,
        serves: str | None = None,
    ) -> Draft:
        """The document for ``kind`` from the case as it stands at ``as_of`` (pure: nothing is written)."""
        if kind not in KINDS:
            raise ValidationError("kind", f"{kind!r} is not one of {', '.join(KINDS)}")
        case = projector.case(case_id, as_of)
        if case is None:
            raise NotFoundError(f"no case {case_id!r} at {as_of.isoformat()}")
        calendar = case.get("calendar") or {}
        if calendar.get("complete") is False:  # a notice must never state days counted on a guess
            year = calendar.get("missing_year")
            detail = calendar.get("detail") or "the working-day calendar is incomplete"
            raise CalendarError(
                f"cannot draft the {kind} of {case_id}: {detail}",
                year=year if isinstance(year, int) else None,
            )
        subject = str(case["subject"])
        nid = notice_id or notice_id_for(case_id, kind)
        version, template_digest = self.templates.version(kind)
        facts = notice_facts(
            case,
            projector.facts(subject, as_of),
            projector.facts("company", as_of),
            projector.calendar(as_of),
            self.policy,
            self.templates.settings,
            kind=kind,
            as_of=as_of,
            serves=serves,
        )
        context = {
            **facts,
            "notice_id": nid,
            "template": kind,
            "template_version": version,
            "template_digest": template_digest,
        }
        html = self.templates.render(kind, context)
        return Draft(nid, kind, case_id, subject, html, kind, version, facts)

    async def keep(self, draft: Draft, event_id: str) -> None:
        """Store the document under its digest before its entry is appended: an entry never lacks it."""
        doc = {
            "notice_id": draft.notice_id,
            "kind": draft.kind,
            "case_id": draft.case_id,
            "subject": draft.subject,
            "event_id": event_id,
            "template": draft.template,
            "template_version": draft.template_version,
            "html": draft.html.decode("utf-8"),
            "facts": dict(draft.facts),
        }
        await self.store.put_record(DOCUMENT_KIND, draft.digest.removeprefix("sha256:"), doc)

    async def draft(self, decision: StageEntry, case: Mapping[str, Any], stage_seq: int) -> list[Event]:
        """The escalator's drafter (``ledger.services.drafting_port.Drafter``): the ``notice.drafted`` a stage
        just entered calls for, its document already kept; none for hr_alert or a suspended case.

        Deterministic: the case as of the instant the stage was reached, the notice id from the case, kind
        and occurrence, the event id from the stage entry, so racing evaluators draft the same bytes once."""
        kind = STAGE_NOTICE.get(decision.stage)
        if kind is None or self.projector is None or case.get("suspended") or case.get("status") != "open":
            return []
        suffix = "" if decision.occurrence == 1 else f"occurrence-{decision.occurrence}"
        try:
            draft = self.compose(
                self.projector(),
                decision.case_id,
                kind,
                decision.reached_at,
                notice_id=notice_id_for(decision.case_id, kind, suffix),
            )
        except LedgerError as exc:  # a template a company broke must not stop escalation
            log.error("the %s of %s could not be drafted: %s", kind, decision.case_id, exc)
            return []
        event = Event(draft_event_id(stage_seq, kind), DRAFTED, draft.subject, AT_RECORDING, "hrledger", draft.data())
        await self.keep(draft, event.event_id)
        return [event]

    async def document(self, digest: str) -> dict[str, Any] | None:
        """The kept document with this ``sha256:`` digest, checked against it; None when not kept here."""
        hexdigest = digest.removeprefix("sha256:")
        if not re.fullmatch(r"[0-9a-f]{64}", hexdigest):
            return None
        doc = await self.store.get_record(DOCUMENT_KIND, hexdigest)
        if doc is None:
            return None
        html = str(doc.get("html", "")).encode("utf-8")
        doc["digest_matches"] = hashlib.sha256(html).hexdigest() == hexdigest
        return doc


def _data(entry: StoredEntry) -> dict[str, Any] | None:
    try:
        data = json.loads(entry.data) if entry.data is not None else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


NOTICE_TYPES = ("notice.issued", "notice.delivered", "notice.delivery_failed", "notice.refused")


async def find_notice(drafter: NoticeDrafter, notice_id: str) -> dict[str, Any] | None:
    """A drafted notice by id (the latest draft under that id): its entry, facts, document and digest, and
    what the log says became of it (issued under it or from its draft, deliveries, failures, refusals)."""
    found: tuple[StoredEntry, dict[str, Any]] | None = None
    async for rows in iter_entries(drafter.store, type=DRAFTED):
        for e in rows:
            data = _data(e)
            if data is not None and data.get("notice_id") == notice_id:
                found = (e, data)
    if found is None:
        return None
    entry, data = found
    digest = str(data.get("document_digest", ""))
    kept = await drafter.document(digest)
    later: list[dict[str, Any]] = []
    issued_ids = {notice_id}
    async for rows in iter_entries(drafter.store, subject=entry.subject, from_seq=entry.seq + 1):
        for e in rows:
            d = _data(e)
            if e.type not in NOTICE_TYPES or d is None:
                continue
            if e.type == "notice.issued" and (d.get("draft_seq") == entry.seq or d.get("document_digest") == digest):
                issued_ids.add(str(d.get("notice_id")))
            if d.get("notice_id") in issued_ids:
                later.append({"seq": e.seq, "type": e.type, "occurred_at": e.occurred_at, "data": d})
    leaf = parse_leaf(entry.entry)
    return {
        "notice_id": notice_id,
        "kind": data.get("kind"),
        "subject": entry.subject,
        "case_id": kept.get("case_id") if kept else None,
        "draft_seq": entry.seq,
        "drafted_at": entry.occurred_at,
        "source": leaf.get("source"),
        "document_digest": digest,
        "template": data.get("template"),
        "template_version": data.get("template_version"),
        "document": kept.get("html") if kept else None,
        "document_matches_digest": bool(kept and kept.get("digest_matches")),
        "facts": kept.get("facts") if kept else None,
        "events": later,
    }


async def forget_documents(store: Storage, subject: str) -> int:
    """Erasure (``hrledger erase``): drop the kept documents drafted for ``subject``, which state their name
    and address; the log keeps each digest, and the bundle no document. Returns how many went."""
    gone = 0
    for key, doc in await store.list_records(DOCUMENT_KIND, limit=1_000_000):
        if doc.get("subject") == subject:
            gone += await store.delete_record(DOCUMENT_KIND, key)
    return gone


def draft_event_id(stage_seq: int, kind: str) -> str:
    """The deterministic id of the ``notice.drafted`` entry for a stage's notice of ``kind`` (reserved for
    hrledger: ``ledger.core.entries.RESERVED_ID_PREFIXES``)."""
    return f"draft/{stage_seq}/{kind}"
