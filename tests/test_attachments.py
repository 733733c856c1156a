"""An idea's files: the types told by content, the size limits, storage on every backend,
and who may download them (the private link's holder, organisers, the network's
coordinators and the assigned jury; 404 for anyone else)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
import zipfile
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
import pytest_asyncio
from starlette.applications import Starlette

from live.config import Settings
from live.contest.attachments import (
    FILE_MAX_BYTES,
    INDEX,
    KIND,
    MAX_FILES,
    MEGABYTE,
    Attachments,
    check_file,
    clean_name,
    file_type,
)
from live.contest.editions import Stage
from live.contest.jury_work import JuryWork
from live.errors import BadRequest, Conflict, PayloadTooLarge
from live.server import create_app
from live.store import Store
from live.store.models import Role
from live.web.auth import hash_password
from tests.conftest import BASE_URL, log_in, services_of
from tests.support.contest import idea_form
from tests.test_jury_workflow import EDITION, YEAR, Clock

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 17
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 20 + b"\xff\xd9"


def zipped(entries: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


DOCX = zipped({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})
XLSX = zipped({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"})
ODT = zipped({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<x/>"},
             zipfile.ZIP_STORED)  # fmt: skip


def padded_pdf(size: int) -> bytes:
    """A PDF of exactly `size` bytes."""
    return PDF[:9] + b"%" * (size - len(PDF)) + PDF[9:]


# The type, by content ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "kind"),
    [(PDF, "pdf"), (PNG, "png"), (JPEG, "jpeg"), (DOCX, "docx"), (XLSX, "xlsx"), (ODT, "odt")],
)
def test_each_accepted_type_is_told_by_its_bytes_whatever_the_name(
    content: bytes, kind: str
) -> None:
    assert file_type(content, "x").name == kind
    checked, _ = check_file("innhold.html", content, 7)
    assert checked.type == kind and checked.name.startswith("innhold.html.")  # its extension


@pytest.mark.parametrize(
    "content",
    [
        b"<!doctype html><script>alert(1)</script>",
        b"%PDF-1.4 but cut off before its end",
        b"\x89PNG\r\n\x1a\n but not an image",
        b"MZ\x90\x00 a program",
        b"GIF89a",
        zipped({"readme.txt": b"a zip that is no office document"}),
        zipped({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet"}),
        zipped({"word/document.xml": b"<w/>"}),  # no [Content_Types].xml
        b"PK\x03\x04 not really a zip",
    ],
)
def test_anything_else_is_refused_naming_the_accepted_types(content: bytes) -> None:
    with pytest.raises(BadRequest) as refused:
        check_file("rapport.pdf", content, 7)
    assert refused.value.field == "file" and refused.value.params["name"] == "rapport.pdf"
    assert "PDF, PNG, JPEG" in str(refused.value) and "(ODT)" in str(refused.value)


def test_zip_bombs_are_refused_before_anything_is_unpacked() -> None:
    many = zipped({f"word/{n}.xml": b"" for n in range(1001)} | {"[Content_Types].xml": b""})
    big = zipped({"[Content_Types].xml": b"", "word/document.xml": b"\0" * (51 * MEGABYTE)})
    assert len(big) < MEGABYTE  # small on the wire
    for bomb in (many, big):
        with pytest.raises(BadRequest, match="unpacks to more than an office document"):
            file_type(bomb, "bomb.docx")


def test_size_limits_and_names() -> None:
    with pytest.raises(BadRequest, match="is empty"):
        check_file("tom.pdf", b"", 7)
    with pytest.raises(PayloadTooLarge) as large:
        check_file("stor.pdf", padded_pdf(FILE_MAX_BYTES + 1), 7)
    assert large.value.params["limit"] == 5
    assert check_file("ok.pdf", padded_pdf(FILE_MAX_BYTES), 7)[0].size == FILE_MAX_BYTES
    pdf = file_type(PDF, "")
    assert clean_name("C:\\Users\\kari\\Plan for 2027.PDF", pdf) == "Plan for 2027.pdf"
    assert clean_name("../../etc/passwd", pdf) == "passwd.pdf"
    assert clean_name("bilde.JPEG", file_type(JPEG, "")) == "bilde.jpeg"
    assert clean_name("side\u202e\x00.html", pdf) == "side.html.pdf"  # no control characters
    assert clean_name("", pdf) == "vedlegg.pdf"
    assert len(clean_name("å" * 500 + ".docx", file_type(DOCX, ""))) == 120


# In the store, on every backend ---------------------------------------------------------


@pytest.mark.asyncio
async def test_files_are_kept_in_the_store_within_the_limits_and_audited_without_bytes(
    store: Store,
) -> None:
    files = Attachments(store)
    first = await files.add(7, "søknad.pdf", PDF, actor="idea:7 (idea form)")
    assert (first.key, first.name, first.size) == ("7:1", "søknad.pdf", len(PDF))
    found, content = await files.read(7, 1)
    assert found == first and content == PDF
    # Four at once onto an idea with one: two more fit, and only two.
    results = await asyncio.gather(
        *(files.add(7, f"{n}.png", PNG, actor="a") for n in range(4)), return_exceptions=True
    )
    assert sum(isinstance(r, Conflict) for r in results) == 2
    assert len(await files.list(7)) == MAX_FILES
    removed = await files.remove(7, 1, actor="a")
    assert [a.number for a in await files.list(7)] == sorted(
        r.number for r in results if not isinstance(r, BaseException)
    )
    record = await store.get_record(KIND, removed.key)
    assert record is not None and "data" not in record.data  # the bytes are gone
    with pytest.raises(Exception, match="no such file"):
        await files.read(7, 1)
    # A new file never takes a used number.
    assert (await files.add(7, "ny.odt", ODT, actor="a")).number == 4
    # Together at most 10 MB: two of 4.8 MB leave 0.4 MB.
    big = padded_pdf(int(4.8 * MEGABYTE))
    await files.add(8, "a.pdf", big, actor="a")
    await files.add(8, "b.pdf", big, actor="a")
    with pytest.raises(PayloadTooLarge) as full:
        await files.add(8, "c.pdf", big, actor="a")
    assert full.value.params["left"] == 0.4
    audit = await store.list_audit()
    assert {e.action for e in audit} >= {"attachment.add", "attachment.remove", "idea.attachments"}
    assert all("data" not in repr(e.after) and "JVBER" not in repr(e.after) for e in audit)
    index = await store.get_record(INDEX, "8")
    assert index is not None and len(index.data["files"]) == 2


# Over HTTP -------------------------------------------------------------------------------

ORGANISER, HOST = "org@ks.no", "host@ks.no"
ROGALAND, VESTLAND = "coord-rogaland@ks.no", "coord-vestland@ks.no"
JURY_IN, JURY_OUT = "jury-in@ks.no", "jury-out@ks.no"


class Site:
    def __init__(self, app: Starlette, clock: Clock) -> None:
        self.app, self.clock = app, clock

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url=BASE_URL)

    @contextlib.asynccontextmanager
    async def as_user(self, email: str) -> AsyncIterator[httpx.AsyncClient]:
        async with self.client() as http:
            assert (await log_in(http, email)).status_code == 303
            yield http


@pytest_asyncio.fixture
async def site(make_settings: Callable[..., Settings]) -> AsyncIterator[Site]:
    app = create_app(make_settings())
    async with app.router.lifespan_context(app):
        store, clock = services_of(app).store, Clock()
        services_of(app).contest.clock = clock
        await services_of(app).contest.save_edition(ORGANISER, EDITION, 0)
        password = await hash_password("a long password")
        for email, role, network in (
            (ORGANISER, Role.ORGANISER, None), (HOST, Role.HOST, None),
            (ROGALAND, Role.COORDINATOR, "digi-rogaland"),
            (VESTLAND, Role.COORDINATOR, "digi-vestland"),
            (JURY_IN, Role.JURY, None), (JURY_OUT, Role.JURY, None),
        ):  # fmt: skip
            await store.create_user(email, role, password, network)
        yield Site(app, clock)


async def send_idea(http: httpx.AsyncClient, title: str = "Felles chatbot") -> str:
    """Submit an idea from Stavanger (Digi Rogaland); the private link's path."""
    answer = await http.post(f"/ideer/{YEAR}/ny", data={**idea_form(title), "action": "submit"})
    assert answer.status_code == 303, answer.text
    return answer.headers["location"].split("?")[0]


async def upload(
    http: httpx.AsyncClient, link: str, name: str, content: bytes, lang: str = "en"
) -> httpx.Response:
    return await http.post(f"{link}/vedlegg?lang={lang}", files={"file": (name, content)})


def error_of(html: str) -> str:
    found = re.search(r'class="field-error" id="f-file-error"[^>]*>([^<]*)</p>', html)
    assert found, "no error beside the file field"
    return found.group(1)


@pytest.mark.asyncio
async def test_a_sender_attaches_downloads_and_removes_files_through_the_private_link(
    site: Site,
) -> None:
    async with site.client() as web:
        link = await send_idea(web)
        page = (await web.get(f"{link}?lang=en")).text
        assert "No files are attached." in page and 'enctype="multipart/form-data"' in page
        sent = await upload(web, link, "Kostnader.xlsx", XLSX)
        assert sent.status_code == 303 and sent.headers["location"].endswith(
            "attached=1#attachments"
        )
        page = (await web.get(sent.headers["location"].split("#")[0] + "&lang=en")).text
        assert "The file is attached." in page
        href = re.search(r'<a href="([^"]+)" download>Kostnader\.xlsx</a>', page)
        assert href and "(XLSX, 1 KB)" in page
        got = await web.get(href.group(1))
        assert got.status_code == 200 and got.content == XLSX
        assert got.headers["content-type"].startswith(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        assert got.headers["content-disposition"] == (
            "attachment; filename=\"Kostnader.xlsx\"; filename*=UTF-8''Kostnader.xlsx"
        )
        assert got.headers["x-content-type-options"] == "nosniff"
        assert got.headers["content-security-policy"] == "sandbox"
        assert got.headers["cache-control"] == "private, no-store"
        # An HTML page named as a PDF is refused, with the accepted types named.
        refused = await upload(web, link, "rapport.pdf", b"<html><script>alert(1)</script>")
        assert refused.status_code == 400
        assert error_of(refused.text) == (
            "rapport.pdf is not a file of an accepted type. Accepted types: PDF, PNG, JPEG, "
            "Word (DOCX), Excel (XLSX) or OpenDocument text (ODT)."
        )
        # A PDF called .html is kept as a PDF, under a name that says so.
        await upload(web, link, "søknad.html", PDF)
        got = await web.get(f"{link}/vedlegg/2")
        assert got.headers["content-type"] == "application/pdf"
        assert "filename*=UTF-8''s%C3%B8knad.html.pdf" in got.headers["content-disposition"]
        assert 'filename="s_knad.html.pdf"' in got.headers["content-disposition"]
        assert (await web.post(f"{link}/vedlegg?lang=en", files={})).status_code == 400
        removed = await web.post(f"{link}/vedlegg/1/fjern")
        assert removed.status_code == 303 and "detached=1" in removed.headers["location"]
        assert (await web.get(f"{link}/vedlegg/1")).status_code == 404
        assert (await web.get(f"{link[:-3]}xyz/vedlegg/2")).status_code == 404  # a bad link


@pytest.mark.asyncio
async def test_the_limits_are_said_in_the_readers_number_format(site: Site) -> None:
    async with site.client() as web:
        link = await send_idea(web)
        too_big = await upload(web, link, "stor.pdf", padded_pdf(FILE_MAX_BYTES + 100 * 1024))
        assert too_big.status_code == 413
        assert error_of(too_big.text) == "The file is larger than 5 MB, the most a file may be."
        big = padded_pdf(int(4.8 * MEGABYTE))
        for name in ("a.pdf", "b.pdf"):
            assert (await upload(web, link, name, big)).status_code == 303
        full = await upload(web, link, "c.pdf", big, lang="nb")
        assert full.status_code == 413 and "0,4 MB" in error_of(full.text)  # a decimal comma
        page = (await web.get(f"{link}?lang=en")).text
        assert "(PDF, 4.8 MB)" in page
        assert (await upload(web, link, "d.png", PNG)).status_code == 303
        page = (await web.get(f"{link}?lang=en")).text
        assert "the most it may have" in page and 'type="file"' not in page  # no fourth
        fourth = await upload(web, link, "e.png", PNG)
        assert fourth.status_code == 409 and "at most 3 files" in fourth.text
        # The room for a file is on the upload route only: other forms keep their cap.
        other = await web.post(link, data={"title": "x" * (300 * 1024)})
        assert other.status_code == 413


@pytest.mark.asyncio
async def test_after_the_deadline_files_stay_readable_and_cannot_change(site: Site) -> None:
    async with site.client() as web:
        link = await send_idea(web)
        await upload(web, link, "plan.docx", DOCX)
        site.clock.enter(Stage.NOMINATION)
        page = (await web.get(f"{link}?lang=en")).text
        assert "plan.docx" in page and 'type="file"' not in page and "fjern" not in page
        late = await upload(web, link, "sen.pdf", PDF)
        assert late.status_code == 409 and "deadline" in error_of(late.text)
        assert (await web.post(f"{link}/vedlegg/1/fjern")).status_code == 409
        assert (await web.get(f"{link}/vedlegg/1")).content == DOCX


@pytest.mark.asyncio
async def test_only_organisers_the_networks_coordinators_and_the_assigned_jury_download(
    site: Site,
) -> None:
    async with site.client() as web:
        link = await send_idea(web)
        await upload(web, link, "plan.odt", ODT)
    [idea] = await services_of(site.app).contest.ideas(YEAR)
    idea_id = idea.id
    path = f"/admin/contest/{YEAR}/ideas/{idea_id}/attachments/1"

    async def status(email: str | None) -> int:
        async with site.client() if email is None else site.as_user(email) as http:
            answer = await http.get(path)
            if answer.status_code == 200:
                assert answer.content == ODT
                assert answer.headers["content-disposition"].startswith("attachment;")
            return answer.status_code

    assert await status(None) == 303  # to the login page
    assert {email: await status(email) for email in (ORGANISER, ROGALAND, VESTLAND, HOST)} == {
        ORGANISER: 200,
        ROGALAND: 200,
        VESTLAND: 404,
        HOST: 404,
    }
    assert await status(JURY_IN) == 404  # not a nominee yet
    # The organiser's and coordinator's idea page lists the file with its link.
    async with site.as_user(ROGALAND) as http:
        page = (await http.get(f"/admin/contest/{YEAR}/ideas/{idea_id}?lang=en")).text
        assert f'<a href="{path}" download>plan.odt</a>' in page
    # Nominated, it is on the jury's sheet; a member taken off it loses the file.
    site.clock.enter(Stage.NOMINATION)
    services = services_of(site.app)
    organiser = await services.store.get_user(ORGANISER)
    await services.selection.nominate(organiser, YEAR, idea_id, "Begrunnelse")
    site.clock.enter(Stage.JURY)
    async with site.as_user(JURY_IN) as http:
        sheet = (await http.get(f"/admin/contest/{YEAR}/jury/{idea_id}?lang=en")).text
        assert f'<a href="{path}" download>plan.odt</a>' in sheet
    work = JuryWork(services.selection)
    board = await work.board(YEAR)
    out = await services.store.get_user(JURY_OUT)
    pair = {(idea_id, out.id)}
    await work.save_assignments(ORGANISER, YEAR, pair, set(), {}, board.version)
    assert {email: await status(email) for email in (JURY_IN, JURY_OUT)} == {
        JURY_IN: 200,
        JURY_OUT: 404,
    }
    async with site.as_user(ORGANISER) as http:  # the year must be the idea's
        elsewhere = await http.get(f"/admin/contest/{YEAR + 1}/ideas/{idea_id}/attachments/1")
        assert elsewhere.status_code == 404
        assert (await http.get(path.replace("/1", "/9"))).status_code == 404
