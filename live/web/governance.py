"""For the governance bodies: the audit log, CSV exports, and the organisation directory."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from urllib.parse import urlencode

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from live import i18n, inputs
from live.contest import exports
from live.errors import N_, BadRequest, LiveError, NotFound
from live.store import Store
from live.store.models import AuditEntry
from live.web import audit_words
from live.web.admin import render_admin
from live.web.auth import ORGANISERS, check_csrf, require_session
from live.web.services import services

AUDIT_PAGE = 200
AUDIT_SCAN = 5_000  # entries a filtered page reads at most
_EXPORT_PAGE = 1_000
_UPLOAD_LIMITS = {"max_fields": 10, "max_files": 2, "max_part_size": 1024 * 1024}


async def _audit_csv_chunks(store: Store) -> AsyncIterator[str]:
    """The whole audit log as CSV, oldest first, a page at a time: each page is read, then
    turned into text on a worker thread, so that the event loop (and every vote it takes)
    never waits for the whole log, nor holds it in memory."""
    header = exports.audit_csv([])  # the byte order mark and the header line
    yield header
    after_id = 0
    while True:
        page = await store.list_audit(after_id=after_id, limit=_EXPORT_PAGE)
        if page:
            text = await asyncio.to_thread(exports.audit_csv, page)
            yield text[len(header) :]  # each call starts with the header again
        if len(page) < _EXPORT_PAGE:
            return
        after_id = page[-1].id


def _csv(text: str, filename: str) -> Response:
    disposition = f'attachment; filename="{filename}"'
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": disposition})  # fmt: skip


async def audit_log(request: Request) -> Response:
    """The latest changes first, a page at a time, in plain words and Norwegian time.

    Unfiltered, only the page shown is read. Filtered by subject or person, older entries
    are read a page at a time until the page is full, but never more than `AUDIT_SCAN`
    of them per request: the page then says how far back it looked and links further."""
    session = await require_session(request, ORGANISERS)
    store, contest = services(request).store, services(request).contest
    query = request.query_params
    before_id = inputs.parse_whole(query.get("before", ""))  # None: the latest
    subject, who = query.get("subject", "").strip()[:200], query.get("who", "").strip()[:200]
    if subject or who:
        page, older, searched_to = await _filtered_page(store, before_id, subject, who)
    else:
        found = await store.list_audit_before(before_id, limit=AUDIT_PAGE + 1)
        page, searched_to = found[:AUDIT_PAGE], None
        older = page[-1].id if len(found) > AUDIT_PAGE else None
    names = await audit_words.Names.load(store, contest, page)
    subject_name = None
    if ":" in subject:
        probe = AuditEntry(0, "", "", "", subject, None, None)
        subject_name = (await audit_words.Names.load(store, contest, [probe])).subject(probe)
    rows = [(entry, audit_words.action_words(entry), names.subject(entry)) for entry in page]
    filters = {key: value for key, value in (("subject", subject), ("who", who)) if value}
    return render_admin(
        request,
        "admin/audit.html",
        session,
        rows=rows,
        older=older,
        subject=subject,
        who=who,
        subject_name=subject_name,
        searched_to=searched_to,
        filters=urlencode(filters),
        kinds=audit_words.KINDS,
        people=sorted(u.email for u in await store.list_users()),
    )


async def _filtered_page(
    store: Store, before_id: int | None, subject: str, who: str
) -> tuple[list[AuditEntry], int | None, int | None]:
    """Up to a page of matching entries older than `before_id`; the id to go on from
    (None at the start of the log); and, when the scan stopped before the page was full,
    the oldest id it read."""
    page: list[AuditEntry] = []
    scanned = 0
    while scanned < AUDIT_SCAN:
        batch = await store.list_audit_before(before_id, limit=AUDIT_PAGE)
        scanned += len(batch)
        for entry in batch:
            if audit_words.matches(entry, subject, who):
                if len(page) == AUDIT_PAGE:
                    return page, page[-1].id, None
                page.append(entry)
        if len(batch) < AUDIT_PAGE:
            return page, None, None
        before_id = batch[-1].id
    return page, before_id, before_id


async def audit_export(request: Request) -> Response:
    await require_session(request, ORGANISERS)
    return StreamingResponse(
        _audit_csv_chunks(services(request).store),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="audit-log.csv"'},
    )


async def export(request: Request) -> Response:
    """One CSV for an edition: its ideas, nominations or jury scores."""
    await require_session(request, ORGANISERS)
    contest, selection = services(request).contest, services(request).selection
    edition, _ = await contest.edition(request.path_params["year"])
    ideas = await contest.ideas(edition.year)
    titles = {i.id: i.title for i in ideas}
    what = request.path_params["what"]
    if what == "ideas":
        text = exports.ideas_csv(ideas)
    elif what == "nominations":
        text = exports.nominations_csv(await selection.nominations(edition.year), titles)
    elif what == "scores":
        text = exports.scores_csv(await selection.sheets(edition.year), edition.criteria, titles)
    else:
        raise NotFound(N_("The page was not found."))
    return _csv(text, f"{what}-{edition.year}.csv")


async def organisations(request: Request) -> Response:
    """The municipalities and networks ideas are routed by; organisers import newer CSV."""
    session = await require_session(request, ORGANISERS)
    contest = services(request).contest
    error, saved, status = None, False, 200
    if request.method == "POST":
        async with request.form(**_UPLOAD_LIMITS) as form:
            check_csrf(session, form)
            texts = {}
            for name in ("municipalities", "networks"):
                upload = form.get(name)
                if isinstance(upload, UploadFile) and upload.filename:
                    texts[name] = await upload.read()
        try:
            if not texts:
                raise BadRequest(N_("Choose a file to import."))
            decoded = {}
            for name, raw in texts.items():
                try:
                    decoded[name] = raw.decode("utf-8-sig")
                except UnicodeDecodeError:
                    raise BadRequest(N_("The file must be UTF-8 text (CSV).")) from None
            await contest.import_directory(session.user.email, decoded.get("municipalities"),
                                           decoded.get("networks"))  # fmt: skip
            saved = True
        except LiveError as problem:
            if problem.status >= 500:
                raise
            error, status = i18n.gettext(problem.message, **problem.params), problem.status
    directory = await contest.directory()
    counts: dict[str, int] = {}
    for municipality in directory.municipalities.values():
        key = municipality.network_id or ""
        counts[key] = counts.get(key, 0) + 1
    return render_admin(request, "admin/organisations.html", session, status_code=status,
                        directory=directory, counts=counts, error=error, saved=saved)  # fmt: skip


routes = [
    Route("/admin/audit", audit_log, name="audit_log"),
    Route("/admin/audit.csv", audit_export, name="audit_export"),
    Route("/admin/organisations", organisations, methods=["GET", "POST"], name="organisations"),
    Route("/admin/contest/{year:id}/export/{what:str}.csv", export, name="export"),
]
