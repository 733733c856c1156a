"""Length limits on forms: each limit is stated beside its field, nothing is cut, and the
server refuses a text that is too long with a message beside the field, keeping the text."""

from __future__ import annotations

import contextlib
import html
import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from starlette.applications import Starlette

from live.contest.editions import OSLO
from live.finale import polls
from live.store.models import Role
from tests.conftest import BASE_URL, log_in, make_user, services_of
from tests.support.contest import idea_form

TEMPLATES = Path(__file__).resolve().parent.parent / "live" / "templates"
YEAR = 2033
ENGLISH = {"Accept-Language": "en"}


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "no CSRF field on the page"
    return found.group(1)


def field_error(page: str, field_id: str) -> str:
    """The error shown beside a field, which the field names in aria-describedby."""
    name = re.escape(field_id)
    found = re.search(rf'<p class="field-error" id="{name}-error">([^<]*)</p>', page)
    assert found, f"no error beside {field_id}"
    assert re.search(rf'id="{name}"[^>]*\saria-describedby="[^"]*{name}-error', page)
    return html.unescape(found.group(1))


@contextlib.asynccontextmanager
async def organiser_client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    await make_user(app, "organiser@ks.no", Role.ORGANISER)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        assert (await log_in(http, "organiser@ks.no")).status_code == 303
        yield http


def edition_form(csrf: str, **fields: str) -> dict[str, str]:
    now = datetime.now(OSLO)
    days = {"submission_deadline": 1, "nomination_deadline": 2, "jury_deadline": 3, "finale_at": 4}
    moments = {k: (now + timedelta(days=d)).strftime("%Y-%m-%dT%H:%M") for k, d in days.items()}
    return {"csrf": csrf, "year": str(YEAR), "title": "Test", "finalists": "5", **moments, **fields}


@pytest_asyncio.fixture
async def organiser(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """An organiser, with an edition that takes ideas now."""
    async with organiser_client(app) as http:
        page = (await http.get("/admin/contest/new")).text
        made = await http.post("/admin/contest/new", data=edition_form(csrf_of(page)))
        assert made.status_code == 303, made.text
        yield http


def test_no_template_cuts_text_with_maxlength() -> None:
    cutting = [
        f"{path.relative_to(TEMPLATES)}:{number}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if re.search(r"\bmaxlength\s*=", line, re.IGNORECASE)
    ]
    assert not cutting, f"maxlength cuts a pasted text without a word: {cutting}"


@pytest.mark.asyncio
async def test_the_poll_form_states_the_limits_of_the_poll_rules(app: Starlette) -> None:
    async with organiser_client(app) as http:
        page = (await http.get("/admin/polls/new", headers=ENGLISH)).text
    for field, limit in (("title", polls.TITLE_MAX), ("name_1", polls.NAME_MAX),
                         ("owner_10", polls.OWNER_MAX), ("pitch_3", polls.PITCH_MAX)):  # fmt: skip
        assert re.search(rf'id="{field}"[^>]*\saria-describedby="{field}-limit"', page), field
        assert re.search(rf'id="{field}"[^>]*\sdata-max-length="{limit}"', page), field
        hint = f'<p class="hint limit" id="{field}-limit">At most {limit} characters.</p>'
        assert hint in page
    assert "limits.js" in page


@pytest.mark.asyncio
async def test_a_too_long_finalist_name_is_refused_and_kept(app: Starlette) -> None:
    name = "N" * (polls.NAME_MAX + 1)
    async with organiser_client(app) as http:
        csrf = csrf_of((await http.get("/admin/polls/new")).text)
        form = {"csrf": csrf, "title": "Finalen", "name_1": name, "name_2": "Bravo"}
        answer = await http.post("/admin/polls/new", data=form)
    assert answer.status_code == 400
    assert f"maks {polls.NAME_MAX} tegn" in answer.text  # bokmål, the default
    assert f'value="{name}"' in answer.text
    assert await services_of(app).store.list_polls() == []


@pytest.mark.asyncio
async def test_a_too_long_idea_title_is_refused_beside_the_field_and_kept(
    organiser: httpx.AsyncClient,
) -> None:
    title = "T" * 121
    form = idea_form(title=title, action="submit")
    answer = await organiser.post(f"/ideer/{YEAR}/ny", data=form)
    assert answer.status_code == 400
    assert field_error(answer.text, "f-title") == "Skriv høyst 120 tegn."
    assert f'value="{title}"' in answer.text
    assert 'href="#f-title"' in answer.text  # the summary names the field
    nynorsk = await organiser.post(f"/ideer/{YEAR}/ny?lang=nn", data=form)
    assert field_error(nynorsk.text, "f-title") == "Skriv høgst 120 teikn."


@pytest.mark.asyncio
async def test_a_too_long_idea_answer_is_refused_and_kept_whole(
    organiser: httpx.AsyncClient,
) -> None:
    need = "Behov.\n" + "x" * 3994  # 4001 characters: one more than the limit
    form = idea_form(need=need.replace("\n", "\r\n"), action="submit")
    answer = await organiser.post(f"/ideer/{YEAR}/ny", data=form, headers=ENGLISH)
    assert answer.status_code == 400
    assert field_error(answer.text, "f-need") == "Write at most 4000 characters."
    assert f">{need}</textarea>" in answer.text.replace("\r\n", "\n")
    assert 'id="f-need"' in answer.text and 'data-max-length="4000"' in answer.text
    at_limit = idea_form(need="x" * 4000, action="submit")
    assert (await organiser.post(f"/ideer/{YEAR}/ny", data=at_limit)).status_code == 303


@pytest.mark.asyncio
async def test_the_idea_form_states_each_limit(organiser: httpx.AsyncClient) -> None:
    page = (await organiser.get(f"/ideer/{YEAR}/ny", headers=ENGLISH)).text
    assert '<p class="hint limit" id="f-title-limit">At most 120 characters.</p>' in page
    assert 'aria-describedby="f-title-hint f-title-limit"' in page
    assert page.count('data-max-length="4000"') == 8
    assert "limits.js" in page and "{count} of {limit} characters." in page


@pytest.mark.asyncio
async def test_a_too_long_edition_title_is_refused_and_kept(
    organiser: httpx.AsyncClient,
) -> None:
    title = "K" * 201
    page = (await organiser.get(f"/admin/contest/{YEAR}/edit")).text
    form = edition_form(csrf_of(page), title=title, version="1")
    answer = await organiser.post(f"/admin/contest/{YEAR}/edit", data=form, headers=ENGLISH)
    assert answer.status_code == 400
    assert field_error(answer.text, "f-title") == "Give a title of at most 200 characters."
    assert f'value="{title}"' in answer.text


@pytest.mark.asyncio
async def test_a_too_long_routing_note_is_refused_not_cut(
    organiser: httpx.AsyncClient,
) -> None:
    made = await organiser.post(f"/ideer/{YEAR}/ny", data=idea_form(action="submit"))
    assert made.status_code == 303
    note = "n" * 501
    path = f"/admin/contest/{YEAR}/ideas/1"
    csrf = csrf_of((await organiser.get(path)).text)
    form = {"csrf": csrf, "network_id": "", "note": note}
    answer = await organiser.post(f"{path}/reroute", data=form, headers=ENGLISH)
    assert answer.status_code == 400
    assert field_error(answer.text, "f-note") == "Write at most 500 characters."
    assert f'value="{note}"' in answer.text
    assert "Not routed" not in (await organiser.get(path, headers=ENGLISH)).text.split("<form")[0]
    kept = await organiser.post(f"{path}/reroute", data={**form, "note": "n" * 500})
    assert kept.status_code == 303


@pytest.mark.asyncio
async def test_a_too_long_invitation_address_is_refused_and_kept(
    organiser: httpx.AsyncClient,
) -> None:
    email = "a" * 190 + "@kommune.no"
    csrf = csrf_of((await organiser.get("/admin/people")).text)
    form = {"csrf": csrf, "email": email, "role": "jury"}
    answer = await organiser.post("/admin/people", data=form, headers=ENGLISH)
    assert answer.status_code == 400
    assert field_error(answer.text, "f-email") == "Write at most 200 characters."
    assert f'value="{email}"' in answer.text


@pytest.mark.asyncio
async def test_a_too_long_criterion_is_refused_and_every_row_kept(
    organiser: httpx.AsyncClient,
) -> None:
    path = f"/admin/contest/{YEAR}/criteria"
    text = "k" * 301
    form = {"csrf": csrf_of((await organiser.get(path)).text), "version": "1",
            "id_1": "need", "text_1": "Behov", "weight_1": "2", "scale_min_1": "1",
            "scale_max_1": "5", "id_3": "long", "text_3": text, "weight_3": "1",
            "scale_min_3": "1", "scale_max_3": "5"}  # fmt: skip
    answer = await organiser.post(path, data=form, headers=ENGLISH)
    assert answer.status_code == 400
    assert "Row 3: the criterion is too long: at most 300 characters." in answer.text
    assert f'name="text_3" value="{text}"' in answer.text
    # the kept criterion keeps its id; the new rows get theirs from their text when saved
    assert 'name="id_1" value="need"' in answer.text and 'name="text_2" value=""' in answer.text
    assert re.search(r'name="text_3"[^>]*aria-describedby="criteria-limits criteria-error"'
                     r'\saria-invalid="true"', answer.text)  # fmt: skip
