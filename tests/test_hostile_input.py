"""Hostile input through the app: each class of malformed or malicious input is a 400
naming its field, or plain text shown inert, never a 500.

The classes, each tried by hand against every handler that could meet it, logged in as
the role that reaches it: lone surrogates (a `\\ud800` JSON escape, UTF-8-encoded
surrogates, UTF-7 forms), integers past Python's 4,300-digit conversion limit, deep JSON
nesting, non-ASCII digits ("²" passes `isdigit()`), NaN and infinite numbers, CSV with
CR-only lines, missing columns or a field past the csv module's limit, invalid UTF-8,
bodies and fields over their limits, script payloads and SQL in every text field (on
every page, the stage in Chromium and the exports), and path traversal in upload names.
`tests/test_inputs.py` feeds the readers and parsers at random; `tests/test_openapi_fuzz.py`
fuzzes the JSON API against its document.
"""

from __future__ import annotations

import csv
import io
import re
import socket
import tempfile
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from playwright.sync_api import Browser, expect
from starlette.applications import Starlette

from live.contest.editions import OSLO
from live.i18n import LANGUAGE_COOKIE
from live.store.models import Role
from tests.conftest import BASE_URL, api_headers, log_in, make_user
from tests.support.browser import WAIT_MS, watch_errors
from tests.support.process import ServerProcess, api, open_new_poll

YEAR = 2033
TWO = [{"name": "Alfa"}, {"name": "Bravo"}]
MANY_DIGITS = "9" * 5000  # past int()'s 4,300-digit limit

# ---------------------------------------------------------------------------------------
# Through the app, logged in as each role: every hand-made hostile input, every handler


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def version_of(html: str) -> str:
    found = re.search(r'name="version"[^>]*value="([^"]*)"', html)
    return found.group(1) if found else "0"


async def post_form(
    http: httpx.AsyncClient,
    page: str,
    action: str | None = None,
    files: dict[str, Any] | None = None,
    **data: Any,
) -> httpx.Response:
    """A form as a browser posts it: the page first, its CSRF token and version along."""
    html = (await http.get(page)).text
    fields = {"csrf": csrf_of(html), "version": version_of(html), **data}
    return await http.post(action or page, data=fields, files=files)


def local(days: float) -> str:
    return (datetime.now(OSLO) + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M")


def deadlines(*days: float) -> dict[str, str]:
    names = ("submission_deadline", "nomination_deadline", "jury_deadline", "finale_at")
    return {name: local(d) for name, d in zip(names, days, strict=True)}


class Site:
    """An app with an edition, and clients logged in as organiser, host and jury."""

    title = "Idékonkurransen"

    def __init__(self, app: Starlette) -> None:
        self.app = app
        self.clients: dict[Role, httpx.AsyncClient] = {}
        self.api: dict[str, str] = {}

    def client(self) -> httpx.AsyncClient:
        """A client reading English, so that the tests can look for the msgids."""
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app),
            base_url=BASE_URL,
            cookies={LANGUAGE_COOKIE: "en"},
        )

    async def log_in(self, role: Role) -> httpx.AsyncClient:
        email = f"{role.value}@ks.no"
        await make_user(self.app, email, role)
        http = self.client()
        assert (await log_in(http, email)).status_code == 303
        self.clients[role] = http
        return http

    @property
    def org(self) -> httpx.AsyncClient:
        return self.clients[Role.ORGANISER]

    async def set_stage(self, *days: float) -> None:
        page = f"/admin/contest/{YEAR}/edit"
        saved = await post_form(self.org, page, title=self.title, finalists="2", **deadlines(*days))
        assert saved.status_code == 303, saved.text


@pytest_asyncio.fixture
async def site(app: Starlette) -> AsyncIterator[Site]:
    found = Site(app)
    for role in (Role.ORGANISER, Role.HOST, Role.JURY):
        await found.log_in(role)
    found.api = await api_headers(app, "api@ks.no")
    made = await post_form(
        found.org,
        "/admin/contest/new",
        year=str(YEAR),
        title=found.title,
        finalists="2",
        **deadlines(1, 2, 3, 4),
    )
    assert made.status_code == 303, made.text
    yield found
    for http in found.clients.values():
        await http.aclose()


def refused(answer: httpx.Response, status: int = 400) -> str | None:
    """None when `answer` has `status`, else what went wrong (for one assert per class)."""
    if answer.status_code == status:
        return None
    return f"{answer.status_code}: {answer.text[:200]}"


def api_field(answer: httpx.Response) -> str | None:
    field: str | None = answer.json()["error"].get("field")
    return field


POLL = '{"title": %s, "finalists": [{"name": "Alfa"}, {"name": %s}], "winners": %s}'
JSON_BODIES: dict[str, tuple[str | bytes, str | None]] = {
    "lone surrogate in the title": (POLL % ('"\\ud800"', '"B"', "2"), "title"),
    "lone surrogate in a finalist": (POLL % ('"T"', '"x\\udfff"', "2"), "finalists[2].name"),
    "lone surrogate in a key": ('{"\\udbff": 1, "title": "T"}', "\\udbff"),
    "surrogate as UTF-8 bytes": (b'{"title": "\xed\xa0\x80"}', None),
    "integer of 5000 digits": (POLL % ('"T"', '"B"', MANY_DIGITS), "winners"),
    "negative integer of 5000 digits": (POLL % ('"T"', '"B"', "-" + MANY_DIGITS), "winners"),
    "nesting 100,000 deep": ("[" * 100_000 + "]" * 100_000, None),
    "nesting 33 deep in a field": (POLL % ('"T"', "[" * 33 + "]" * 33, "2"), None),
    "NaN": (POLL % ('"T"', '"B"', "NaN"), "winners"),
    "Infinity": (POLL % ('"T"', '"B"', "Infinity"), "winners"),
    "1e999": (POLL % ('"T"', '"B"', "1e999"), "winners"),
    "invalid UTF-8": (b'{"title": "\xff"}', None),
    "UTF-16": ('{"title": "T"}'.encode("utf-16"), None),
}
API_ACTIONS = ("countdown", "reveal", "hide-counts", "show-results", "ties")


@pytest.mark.asyncio
async def test_hostile_json_bodies_are_400_naming_the_field_on_every_endpoint(
    site: Site,
) -> None:
    created = await site.org.post(
        "/api/polls", json={"title": "T", "finalists": TWO}, headers=site.api
    )
    poll_id = created.json()["id"]
    targets = [("POST", "/api/polls"), ("PUT", f"/api/polls/{poll_id}")]
    targets += [("POST", f"/api/polls/{poll_id}/{action}") for action in API_ACTIONS]
    problems = {}
    for name, (body, field) in JSON_BODIES.items():
        for method, path in targets:
            answer = await site.org.request(
                method, path, content=body, headers={**site.api, "Content-Type": "application/json"}
            )
            problem = refused(answer) or (
                None if api_field(answer) == field else f"field {api_field(answer)!r}"
            )
            if problem:
                problems[f"{name}: {method} {path}"] = problem
    assert problems == {}
    assert len(JSON_BODIES) * len(targets) == 91
    after = await site.org.get(f"/api/polls/{poll_id}", headers=site.api)
    assert after.json()["title"] == "T"  # nothing was stored


def written_anywhere(name: str) -> bool:
    """Whether a file `name` turned up where a traversing upload name could put it."""
    places = [Path.cwd(), *Path.cwd().parents, Path(tempfile.gettempdir())]
    return any((place / name).exists() for place in places)


def finalist_file(name: str, data: bytes) -> dict[str, Any]:
    return {"finalists_file": (name, data, "application/octet-stream")}


FINALIST_FILES: dict[str, tuple[str, bytes, str | None]] = {
    # name: (filename, content, problem shown, or None when the poll is made)
    "JSON lone surrogate": ("f.json", b'[{"name": "\\ud800"}, {"name": "B"}]', "not valid text"),
    "JSON nesting 100,000 deep": ("f.json", b"[" * 100_000 + b"]" * 100_000, "nested more"),
    "JSON integer of 5000 digits": ("f.json", b'[{"name": ' + MANY_DIGITS.encode() + b"}]",
                                    "more than 15 digits"),
    "JSON NaN": ("f.json", b'[{"name": NaN}, {"name": "B"}]', "finite number"),
    "JSON name as an object": ("f.json", b'[{"name": {"a": 1}}, {"name": "B"}]',
                               "Row 1: name must be text"),
    "JSON name as a list": ("f.json", b'[{"name": "A"}, {"name": ["B"]}]',
                            "Row 2: name must be text"),
    "CSV with CR-only lines": ("f.csv", b"name;pitch\rAlfa;a\rBravo;b\r", None),
    "CSV with CRLF lines": ("f.csv", b"name,pitch\r\nAlfa,a\r\nBravo,b\r\n", None),
    "CSV with a missing column": ("f.csv", b"name,pitch,owner\nAlfa\nBravo,b\n", None),
    "CSV field past the csv limit": ("f.csv", b'name\nAlfa\n"' + b"x" * 140_000 + b'"\n',
                                     "Line 3: a field is longer than"),
    "CSV in invalid UTF-8": ("f.csv", b"name\nAlfa\n\xffBravo\n", "UTF-8"),
    "CSV in UTF-16": ("f.csv", "name\nAlfa\nBravo\n".encode("utf-16"), "UTF-8"),
    "CSV, traversing name": ("../../../../tmp/live-pwned.csv", b"name\nAlfa\nBravo\n", None),
    "CSV, Windows traversing name": ("..\\..\\live-pwned.csv", b"name\nAlfa\nBravo\n", None),
}  # fmt: skip


@pytest.mark.asyncio
async def test_hostile_finalist_files_are_refused_by_row_or_read_right(site: Site) -> None:
    problems = {}
    for name, (filename, data, problem) in FINALIST_FILES.items():
        answer = await post_form(
            site.org,
            "/admin/polls/new",
            files=finalist_file(filename, data),
            title="Fra fil",
            method="single",
            winners="2",
        )
        if problem is None:
            fault = refused(answer, 303)
        else:
            fault = refused(answer) or (None if problem in answer.text else "no problem named")
        if fault:
            problems[name] = fault
    assert problems == {}
    polls = (await site.org.get("/api/polls", headers=site.api)).json()["polls"]
    assert {(p["finalists"][0]["name"], p["finalists"][1]["pitch"]) for p in polls} == {
        ("Alfa", "b"),
        ("Alfa", ""),
    }  # CR-only lines read as lines; a missing column is empty
    assert not written_anywhere("live-pwned.csv")  # the name is never used as a path


ORGANISATION_FILES: dict[str, tuple[str, str, str | None]] = {
    # name: (field, content, problem shown, or None when it is imported)
    "networks with CR-only lines": ("networks", "CR", None),
    "municipalities with CR-only lines": ("municipalities", "CR", None),
    "a municipality row missing columns": ("municipalities", "\n0301,Oslo\n",
                                           "line 2: 2 fields, but the first line names 7"),
    "a network row with a column too many": ("networks", "\nx,X,regional,03,extra\n",
                                             "line 2: 5 fields"),
    "a field past the csv limit": ("networks", '\n"' + "x" * 140_000 + '",X,regional,03\n',
                                   "Line 2: a field is longer than"),
    "a municipality number in superscript digits": (
        "municipalities", "\n²²²²,Oslo,,03,Oslo,,no\n", "four digits"),
    "a municipality number of 5000 digits": (
        "municipalities", f"\n{MANY_DIGITS},Oslo,,03,Oslo,,no\n", "four digits"),
    "invalid UTF-8": ("networks", "\udcff", "must be UTF-8"),
    "a traversing file name": ("networks", "NAME", None),
}  # fmt: skip


def _shipped(name: str) -> str:
    return resources.files("live").joinpath("data", name).read_text(encoding="utf-8")


def organisation_upload(field: str, content: str) -> dict[str, Any]:
    shipped = _shipped(f"{field}-2022.csv")
    header = shipped.splitlines()[0]
    filename = "x.csv"
    if content == "CR":
        data = shipped.replace("\r\n", "\n").replace("\n", "\r").encode()
    elif content == "NAME":
        data, filename = shipped.encode(), "../../../../tmp/live-pwned-networks.csv"
    elif content == "\udcff":
        data = header.encode() + b"\n\xff\n"
    else:
        data = (header + content).encode()
    return {field: (filename, data, "text/csv")}


@pytest.mark.asyncio
async def test_hostile_organisation_files_are_refused_by_line_or_read_right(site: Site) -> None:
    problems = {}
    for name, (field, content, problem) in ORGANISATION_FILES.items():
        answer = await post_form(
            site.org, "/admin/organisations", files=organisation_upload(field, content)
        )
        if problem is None:
            fault = refused(answer, 200)
        else:
            fault = refused(answer) or (None if problem in answer.text else "no problem named")
        if fault:
            problems[name] = fault
    assert problems == {}
    directory = await site.app.state.services.contest.directory()
    assert directory.municipalities["0301"].name == "Oslo" and "digi-rogaland" in directory.networks
    assert not written_anywhere("live-pwned-networks.csv")


EDITION_FORM: dict[str, dict[str, str]] = {
    "version of 5000 digits": {"version": MANY_DIGITS},
    "version of 20 digits": {"version": "9" * 20},
    "version in superscript digits": {"version": "²"},
    "version as words": {"version": "abc"},
    "finalists of 5000 digits": {"finalists": MANY_DIGITS},
    "finalists in Arabic-Indic digits": {"finalists": "٥"},
}
NEW_EDITION_FORM: dict[str, dict[str, str]] = {
    "year of 5000 digits": {"year": MANY_DIGITS},
    "year in superscript digits": {"year": "²⁰³⁴"},
    "year in Arabic-Indic digits": {"year": "٢٠٣٤"},
}
CRITERIA_FORM: dict[str, dict[str, str]] = {
    "weight nan": {"weight_1": "nan"},
    "weight inf": {"weight_1": "inf"},
    "weight -inf": {"weight_1": "-inf"},
    "weight 1e309": {"weight_1": "1e309"},
    "weight of 5000 digits": {"weight_1": MANY_DIGITS},
    "scale of 5000 digits": {"scale_max_1": MANY_DIGITS},
    "scale in superscript digits": {"scale_max_1": "²"},
    "version of 5000 digits": {"version": MANY_DIGITS},
    "version in superscript digits": {"version": "²"},
}
CRITERION = {
    "id_1": "need",
    "text_1": "Behov",
    "weight_1": "1",
    "scale_min_1": "1",
    "scale_max_1": "5",
}
FINALIST_CHOICES = {"superscript digit": "²", "5000 digits": MANY_DIGITS, "Arabic-Indic": "٣"}


@pytest.mark.asyncio
async def test_hostile_numbers_in_contest_forms_are_400_naming_the_field(site: Site) -> None:
    problems = {}
    edit = f"/admin/contest/{YEAR}/edit"
    for name, values in EDITION_FORM.items():
        form = {"title": site.title, "finalists": "2", **deadlines(1, 2, 3, 4), **values}
        field = next(iter(values))
        answer = await post_form(site.org, edit, **form)
        problems[f"edition {name}"] = refused(answer) or (
            None if f'id="f-{field}"' in answer.text or field in answer.text else "unnamed"
        )
    for name, values in NEW_EDITION_FORM.items():
        form = {"title": "Ny", "finalists": "2", **deadlines(1, 2, 3, 4), **values}
        problems[f"new edition {name}"] = refused(
            await post_form(site.org, "/admin/contest/new", **form)
        )
    criteria = f"/admin/contest/{YEAR}/criteria"
    for name, values in CRITERIA_FORM.items():
        answer = await post_form(site.org, criteria, **{**CRITERION, **values})
        problems[f"criteria {name}"] = refused(answer)
    ranking = f"/admin/contest/{YEAR}/ranking"
    for name, value in FINALIST_CHOICES.items():
        answer = await post_form(
            site.org, ranking, f"/admin/contest/{YEAR}/finalists/select", idea=value
        )
        problems[f"finalists {name}"] = refused(answer) or (
            None if "idea" in answer.text else "unnamed"
        )
    assert {name: fault for name, fault in problems.items() if fault} == {}
    edition, _ = await site.app.state.services.contest.edition(YEAR)
    assert [c.weight for c in edition.criteria] == [1.0] * len(edition.criteria)


async def nominated_ideas(site: Site, *forms: dict[str, Any]) -> list[tuple[int, str]]:
    """Ideas submitted by the public and nominated by the organiser, each with its
    private link, and the jury stage begun."""
    links = []
    async with site.client() as public:
        for form in forms:
            sent = await public.post(f"/ideer/{YEAR}/ny", data=form | {"action": "submit"})
            assert sent.status_code == 303, sent.text
            links.append(sent.headers["location"].split("?")[0])
    ideas = (await site.app.state.services.contest.ideas(YEAR))[-len(forms) :]
    await site.set_stage(-0.02, 2, 3, 4)
    for idea, rationale in zip(ideas, (RATIONALE, SQL), strict=False):
        page = f"/admin/contest/{YEAR}/ideas/{idea.id}"
        nominated = await post_form(site.org, page, f"{page}/nominate", rationale=rationale)
        assert nominated.status_code == 303, nominated.text
    await site.set_stage(-0.03, -0.02, 3, 4)
    return [(idea.id, link) for idea, link in zip(ideas, links, strict=True)]


@pytest.mark.asyncio
async def test_hostile_scores_on_a_jury_sheet_are_400(site: Site) -> None:
    [(idea_id, _)] = await nominated_ideas(site, IDEA)
    sheet = f"/admin/contest/{YEAR}/jury/{idea_id}"
    html = (await site.clients[Role.JURY].get(sheet)).text
    scores = re.findall(r'name="(score_[a-z-]+)"', html)
    problems = {}
    for name, value in {"5000 digits": MANY_DIGITS, "superscript": "²", "nan": "nan"}.items():
        answer = await post_form(site.clients[Role.JURY], sheet, **dict.fromkeys(scores, value))
        problems[name] = refused(answer) or (None if "from 1 to 5" in answer.text else "unnamed")
    assert {name: fault for name, fault in problems.items() if fault} == {}


CONSOLE_FORMS: dict[str, tuple[str, dict[str, str]]] = {
    "reveal place in superscript": ("reveal", {"place": "²"}),
    "reveal place of 5000 digits": ("reveal", {"place": MANY_DIGITS}),
    "tie order of 5000 digits": ("tie", {"rule": "lots", "order": MANY_DIGITS}),
    "countdown of 5000 digits": ("countdown", {"seconds": MANY_DIGITS}),
    "countdown in superscript": ("countdown", {"seconds": "³⁰"}),
    "close asked at 5000 digits": ("close", {"confirm": "yes", "asked_at": MANY_DIGITS}),
}


@pytest.mark.asyncio
async def test_hostile_numbers_on_the_console_are_refused(site: Site) -> None:
    poll = (
        await site.org.post("/api/polls", json={"title": "T", "finalists": TWO}, headers=site.api)
    ).json()
    await site.org.post(f"/api/polls/{poll['id']}/open", headers=site.api)
    console = f"/admin/polls/{poll['id']}"
    problems = {}
    for name, (action, values) in CONSOLE_FORMS.items():
        answer = await post_form(site.clients[Role.HOST], console, f"{console}/{action}", **values)
        problems[name] = None if answer.status_code in (303, 400, 409) else refused(answer)
    assert {name: fault for name, fault in problems.items() if fault} == {}
    assert (await site.org.get(console, headers=site.api)).status_code == 200


@pytest.mark.asyncio
async def test_hostile_versions_on_the_theme_form_are_refused(site: Site) -> None:
    for version in ("²", MANY_DIGITS):
        answer = await post_form(site.org, "/admin/theme", version=version,
                                 background="#ffffff", accent="#1a5276")  # fmt: skip
        assert answer.status_code in (400, 409), answer.text[:200]


def utf7_form(fields: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    """A multipart form that declares UTF-7, in which "+2AA-" is a lone surrogate."""
    boundary = "hostile-boundary"
    parts = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    )
    body = f"{parts}--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; charset=utf-7; boundary={boundary}"}


UTF7_FORMS: dict[str, tuple[Role | None, str, dict[str, str]]] = {
    "public idea form": (None, f"/ideer/{YEAR}/ny", {"title": "+2AA-", "action": "draft"}),
    "login (public)": (None, "/admin/login", {"email": "a+2AA-@ks.no", "password": "x"}),
    "poll form": (Role.ORGANISER, "/admin/polls/new", {"title": "+2AA-", "name_1": "A",
                                                       "name_2": "B"}),
    "invitations": (Role.ORGANISER, "/admin/people", {"email": "a+2AA-@ks.no", "role": "jury"}),
    "edition form": (Role.ORGANISER, f"/admin/contest/{YEAR}/edit", {"title": "+2AA-"}),
    "criteria": (Role.ORGANISER, f"/admin/contest/{YEAR}/criteria", {"text_1": "+2AA-"}),
    "theme": (Role.ORGANISER, "/admin/theme", {"title_nb": "+2AA-"}),
    "organisations": (Role.ORGANISER, "/admin/organisations", {"networks": "+2AA-"}),
}  # fmt: skip


@pytest.mark.asyncio
async def test_forms_in_any_charset_but_utf8_are_400(site: Site) -> None:
    problems = {}
    for name, (role, page, fields) in UTF7_FORMS.items():
        http = site.clients[role] if role else site.client()
        html = (await http.get(page)).text
        csrf = {"csrf": csrf_of(html)} if 'name="csrf"' in html else {}
        body, headers = utf7_form(csrf | fields)
        answer = await http.post(page, content=body, headers=headers)
        problems[name] = refused(answer) or (None if "UTF-8" in answer.text else "unnamed")
    assert {name: fault for name, fault in problems.items() if fault} == {}
    ideas = await site.app.state.services.contest.ideas(YEAR)
    assert ideas == []  # nothing was stored


@pytest.mark.asyncio
async def test_bodies_and_fields_over_their_limits_are_refused(site: Site) -> None:
    big = {"title": "x" * 300_000, "finalists": TWO}
    assert (await site.org.post("/api/polls", json=big, headers=site.api)).status_code == 413
    assert (await site.org.put("/api/polls/1", json=big, headers=site.api)).status_code == 413
    async with site.client() as public:
        form = f"/ideer/{YEAR}/ny"
        too_big = await public.post(form, data={"title": "x" * 300_000})
        too_long = await public.post(form, files={"need": (None, "x" * 20_000)})
        too_many = await public.post(form, files=[(f"f{n}", (None, "x")) for n in range(200)])
    assert [too_big.status_code, too_long.status_code, too_many.status_code] == [413, 400, 400]


def test_a_hostile_request_keeps_the_connection_alive(tmp_path: Path) -> None:
    """A 500 made uvicorn drop the keep-alive connection; a 400 keeps it, so the next
    request on the same socket is answered."""
    server = ServerProcess(tmp_path / "var")
    server.start()
    try:
        token = server.organiser_token()
        hostile = [
            b'{"title": "\\ud800"}',
            b"[" * 50_000 + b"]" * 50_000,
            b'{"winners": ' + MANY_DIGITS.encode() + b"}",
        ]
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            answers = []
            for body in [*hostile, b'{"title": "T", "finalists": [{"name": "A"}, {"name": "B"}]}']:
                sock.sendall(
                    b"POST /api/polls HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    b"Authorization: Bearer " + token.encode() + b"\r\n"
                    b"Content-Type: application/json\r\n"
                    b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
                )
                answers.append(_read_response(sock))
        assert answers == [400, 400, 400, 201]
    finally:
        server.stop()


def _read_response(sock: socket.socket) -> int:
    """The status of one HTTP/1.1 response read whole from `sock` (it stays open)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection"
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    declared = re.search(rb"content-length: (\d+)", head, re.IGNORECASE)
    assert declared, head
    length = int(declared.group(1))
    while len(rest) < length:
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection"
        rest += chunk
    return int(head.split(b" ")[1])


# ---------------------------------------------------------------------------------------
# Script payloads and SQL in every text field: stored as text, shown inert everywhere

SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE = '"><img src=x onerror=alert(1)>'
SQL = "'; DROP TABLE polls; --"
FORMULA = '=HYPERLINK("http://evil.example","klikk")'
PAYLOADS = (SCRIPT, ATTRIBUTE, SQL)
RATIONALE = f"{SCRIPT} {ATTRIBUTE} {SQL}"
IDEA = {
    "title": SCRIPT, "owner": "m:1103", "company_name": "", "partners": ATTRIBUTE,
    "contact_name": SQL, "contact_email": '"><svg/onload=alert(1)>@ks.no',
    "contact_phone": "+47 =1+1", "need": FORMULA, "benefit_quantitative": f"-{SQL}",
    "benefit_qualitative": f"@{SCRIPT}", "goals": ["2"], "goals_text": f"\t{ATTRIBUTE}",
    "life_events": ["have-a-child"], "execution_risk_level": "low",
    "execution_risk_text": SCRIPT, "benefit_risk_level": "medium",
    "benefit_risk_text": ATTRIBUTE, "criticality_level": "high", "criticality_text": SQL,
    "novelty": "new",
}  # fmt: skip


def assert_inert(html: str, page: str) -> None:
    """No payload is live markup on `page`; at least one is shown, escaped."""
    for payload in (SCRIPT, "<img src=x", "<svg/onload"):
        assert payload not in html, f"{payload!r} is live markup on {page}"
    shown = (
        "&lt;script&gt;alert(1)&lt;/script&gt;",
        "&#34;&gt;&lt;img src=x",
        "&#39;; DROP",
        "\\u003cscript\\u003e",
    )  # the last as Jinja's `tojson` writes it
    assert any(escaped in html for escaped in shown), f"no payload shown on {page}"


@pytest.mark.asyncio
async def test_script_and_sql_payloads_are_stored_as_text_and_shown_inert(site: Site) -> None:
    org, host, jury = site.org, site.clients[Role.HOST], site.clients[Role.JURY]
    await site.set_stage(1, 2, 3, 4)
    edition_title = f"{SCRIPT}{SQL}"[:200]
    await post_form(
        org,
        f"/admin/contest/{YEAR}/edit",
        title=edition_title,
        finalists="2",
        **deadlines(1, 2, 3, 4),
    )
    site.title = edition_title
    criteria = await post_form(
        org,
        f"/admin/contest/{YEAR}/criteria",
        **{**CRITERION, "text_1": ATTRIBUTE, "id_1": "sql'--"},
    )
    assert criteria.status_code == 303, criteria.text
    (idea_id, link), (other_id, _) = await nominated_ideas(site, IDEA, IDEA | {"title": SQL})
    sheet = f"/admin/contest/{YEAR}/jury/{idea_id}"
    scored = await post_form(jury, sheet, score_need="4", comment=RATIONALE)
    assert scored.status_code == 303, scored.text
    await site.set_stage(-0.04, -0.03, -0.02, 4)
    picked = await post_form(
        org,
        f"/admin/contest/{YEAR}/ranking",
        f"/admin/contest/{YEAR}/finalists/select",
        idea=[str(idea_id), str(other_id)],
    )
    assert picked.status_code == 303, picked.text
    made = await post_form(
        org, f"/admin/contest/{YEAR}/ranking", f"/admin/contest/{YEAR}/finalists/poll"
    )
    assert made.status_code == 303, made.text
    finale_id = int(made.headers["location"].rsplit("/", 1)[1])
    api_poll = await org.post(
        "/api/polls",
        headers=site.api,
        json={
            "title": SCRIPT,
            "finalists": [
                {"name": SCRIPT, "pitch": ATTRIBUTE, "owner": SQL},
                {"name": ATTRIBUTE, "pitch": SQL, "owner": SCRIPT},
                {"name": SQL, "pitch": SCRIPT, "owner": ATTRIBUTE},
            ],
        },
    )
    assert api_poll.status_code == 201, api_poll.text
    polls = [api_poll.json(), (await org.get(f"/api/polls/{finale_id}", headers=site.api)).json()]
    for poll in polls:
        assert (await org.post(f"/api/polls/{poll['id']}/open", headers=site.api)).is_success
    for finalist in api_poll.json()["finalists"][:2]:  # a tie for first place, by name
        async with site.client() as phone:
            await phone.get(f"/p/{polls[0]['code']}")
            vote = await phone.post(f"/p/{polls[0]['code']}", data={"choice": finalist["id"]})
            assert vote.status_code == 303, vote.text
    closed = await org.post(f"/api/polls/{polls[0]['id']}/close", headers=site.api)
    assert closed.json()["status"] == "closed"

    pages = {
        "the call": (None, "/ideer"),
        "the idea's private link": (None, link),
        "the dashboard": (org, "/admin"),
        "the contest": (org, "/admin/contest"),
        "the edition": (org, f"/admin/contest/{YEAR}"),
        "the idea list": (org, f"/admin/contest/{YEAR}/ideas"),
        "an idea": (org, f"/admin/contest/{YEAR}/ideas/{idea_id}"),
        "the other idea": (org, f"/admin/contest/{YEAR}/ideas/{other_id}"),
        "the jury's list": (jury, f"/admin/contest/{YEAR}/jury"),
        "a jury sheet": (jury, sheet),
        "the criteria": (org, f"/admin/contest/{YEAR}/criteria"),
        "the ranking": (org, f"/admin/contest/{YEAR}/ranking"),
        "the audit log": (org, "/admin/audit"),
    }
    for poll in polls:
        pages |= {
            f"ballot {poll['id']}": (None, f"/p/{poll['code']}"),
            f"stage {poll['id']}": (None, f"/s/{poll['code']}"),
            f"console {poll['id']}": (host, f"/admin/polls/{poll['id']}"),
        }
    pages["the ties"] = (host, f"/admin/polls/{polls[0]['id']}/ties")
    pages["a draft's form"] = (org, f"/admin/polls/{api_poll.json()['id']}/edit")
    for name, (http, path) in pages.items():
        async with site.client() as anonymous:
            answer = await (http or anonymous).get(path)
        assert answer.status_code == 200, f"{name}: {answer.status_code}"
        assert_inert(answer.text, name)

    # The API and the store give each payload back exactly, as text.
    back = (await org.get(f"/api/polls/{api_poll.json()['id']}", headers=site.api)).json()
    assert back["title"] == SCRIPT
    assert [(f["name"], f["pitch"], f["owner"]) for f in back["finalists"]] == [
        (SCRIPT, ATTRIBUTE, SQL),
        (ATTRIBUTE, SQL, SCRIPT),
        (SQL, SCRIPT, ATTRIBUTE),
    ]
    idea = await site.app.state.services.contest.idea(idea_id)
    assert {k: v for k, v in idea.answers.items() if k in IDEA and isinstance(v, str)} == {
        k: v.strip() for k, v in IDEA.items() if isinstance(v, str)
    }
    assert len((await org.get("/api/polls", headers=site.api)).json()["polls"]) == 2

    # The exports: every payload as text, a formula start defused with an apostrophe.
    exported: dict[str, list[dict[str, str]]] = {}
    for what in ("ideas", "nominations", "scores"):
        answer = await org.get(f"/admin/contest/{YEAR}/export/{what}.csv")
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
        exported[what] = list(
            csv.DictReader(io.StringIO(answer.text.lstrip("\ufeff")), delimiter=";")
        )
    row = next(r for r in exported["ideas"] if r["id"] == str(idea_id))
    assert row["title"] == SCRIPT and row["contact_name"] == SQL and row["partners"] == ATTRIBUTE
    assert row["need"] == "'" + FORMULA and row["contact_phone"] == "'+47 =1+1"
    assert row["benefit_quantitative"] == f"'-{SQL}" and row["benefit_qualitative"] == f"'@{SCRIPT}"
    assert row["goals_text"] == ATTRIBUTE  # the tab went with the form's strip; no formula
    assert {r["rationale"] for r in exported["nominations"]} == {RATIONALE, SQL}
    assert exported["scores"][0]["comment"] == RATIONALE
    audit = await org.get("/admin/audit.csv")
    assert audit.status_code == 200 and SQL in audit.text


def test_stage_script_builds_no_markup_from_data() -> None:
    """The stage and ballot scripts put names in the page as text: no HTML from data.
    (The console swaps in a part the server rendered, escaped, as HTML.)"""
    static = resources.files("live").joinpath("static")
    for name in ("stage.js", "ballot.js", "limits.js", "contest.js"):
        script = static.joinpath(name).read_text(encoding="utf-8")
        assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write", script), (
            name
        )


@pytest.mark.browser
def test_the_stage_and_ballot_show_script_names_as_text_in_chromium(
    tmp_path: Path, browser: Browser
) -> None:
    """The stage's script builds the bars and the podium from the stream: the payloads
    are text there too, with no element or script of theirs, and no CSP violation."""
    server = ServerProcess(tmp_path / "var")
    server.start()
    try:
        token = server.organiser_token()
        names = [SCRIPT, ATTRIBUTE, SQL]
        finalists = [{"name": name, "owner": name, "pitch": name} for name in names]
        poll = open_new_poll(server, token, finalists=finalists, title=SCRIPT)
        for index in (0, 0, 0, 1, 1, 2):  # a podium without ties
            with httpx.Client(base_url=server.url, timeout=10) as phone:
                phone.get(f"/p/{poll['code']}")
                choice = poll["finalists"][index]["id"]
                cast = phone.post(f"/p/{poll['code']}", data={"choice": choice})
                assert cast.status_code == 303, cast.text
        context = browser.new_context(viewport={"width": 1280, "height": 720})
        try:
            page = context.new_page()
            problems = watch_errors(page)
            page.goto(f"{server.url}/s/{poll['code']}")
            expect(page.locator(".bar").first).to_be_visible(timeout=WAIT_MS)
            api(server, token, "POST", f"/api/polls/{poll['id']}/close")
            for _ in names:
                api(server, token, "POST", f"/api/polls/{poll['id']}/reveal")
            expect(page.locator("#podium li")).to_have_count(3, timeout=WAIT_MS)
            for name in names:
                expect(page.locator("#podium").get_by_text(name, exact=True).first).to_be_visible()
            ballot = context.new_page()
            ballot.goto(f"{server.url}/p/{poll['code']}")
            for shown in (page, ballot):
                assert shown.locator("img[src='x'], svg[onload], script:not([src])").count() == 0
                assert shown.evaluate("() => document.title").count(SCRIPT) <= 1
            assert problems == []
        finally:
            context.close()
    finally:
        server.stop()
