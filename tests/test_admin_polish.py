"""The admin pages as people read them: numbers with a decimal comma, times in Norwegian
time, the audit log in plain words with names instead of codes and a filter, and
criteria whose ids never show."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from live import i18n
from live.inputs import parse_decimal
from live.store.models import AuditEntry
from live.web import audit_words, formats
from live.web.contest_jury import _criteria_from, _new_id
from tests.conftest import create_poll, services_of
from tests.test_admin import logged_in

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("language", "score", "weight", "big"),
    [("nb", "89,3", "2,5", "12\xa0345,25"), ("nn", "89,3", "2,5", "12\xa0345,25"),
     ("en", "89.3", "2.5", "12,345.25")],
)  # fmt: skip
def test_numbers_follow_the_reader_s_language(
    language: str, score: str, weight: str, big: str
) -> None:
    token = i18n._current.set(language)
    try:
        assert formats.number(89.25 + 0.05, 1) == score
        assert formats.number(2.5) == weight and formats.number(1.0) == "1"
        assert formats.number(12345.25) == big
        assert formats.number(12345.5, grouping=False) == ("12345.5" if language == "en"
                                                           else "12345,5")  # fmt: skip
    finally:
        i18n._current.reset(token)


def test_an_input_shows_a_weight_that_parse_decimal_reads_back() -> None:
    for language in i18n.LANGUAGES:
        token = i18n._current.set(language)
        try:
            for value in (1.0, 2.5, 0.25, 12345.75):
                assert parse_decimal(formats.number(value, grouping=False)) == value
        finally:
            i18n._current.reset(token)


def test_times_are_norwegian_time_with_summer_time() -> None:
    token = i18n._current.set("en")
    try:
        assert formats.local_time("2026-11-30T20:04:00.123Z") == "30.11.2026 at 21:04"
        assert formats.local_time("2026-06-30T20:04:00+00:00") == "30.06.2026 at 22:04"
        assert formats.local_time("2026-06-30T20:04:00") == "30.06.2026 at 22:04"  # UTC
        assert formats.machine_time("2026-11-30T20:04:00Z") == "2026-11-30T21:04:00+01:00"
    finally:
        i18n._current.reset(token)
    assert "30.11.2026" in formats.local_time("2026-11-30T20:04:00Z")  # bokmål, the default


FILE_SUFFIXES = {"html", "css", "js", "json", "csv", "txt", "png", "svg", "py"}


def _codes_in_source() -> set[str]:
    """Every audit action the code writes: a "kind.verb" literal beside an audit call."""
    found: set[str] = set()
    prefixes = {code.split(".")[0] for code in audit_words.ACTIONS} | set(audit_words.KINDS)
    pattern = re.compile(r'"((?:[a-z]+_)?[a-z]+\.[a-z_]+)"')
    for path in (ROOT / "live").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if "audit" not in text and "Write(" not in text and "action=" not in text:
            continue
        for code in pattern.findall(text):
            if code.rsplit(".", 1)[1] in FILE_SUFFIXES:
                continue  # a template or file name ("statement.html"), not an action
            if code.split(".")[0] in prefixes:
                found.add(code)
    return found


def test_every_audit_action_has_plain_words() -> None:
    codes = _codes_in_source()
    assert {"poll.open", "jury.score", "idea.submit", "account.create"} <= codes
    missing = sorted(codes - set(audit_words.ACTIONS))
    assert not missing, f"give these audit actions words in live/web/audit_words.py: {missing}"


def entry(action: str, subject: str, actor: str = "kari@ks.no", **after: object) -> AuditEntry:
    return AuditEntry(1, "2026-11-30T20:04:00Z", actor, action, subject, None, after or None)


def test_actions_read_as_words_and_an_unknown_one_keeps_its_code() -> None:
    token = i18n._current.set("en")
    try:
        assert audit_words.action_words(entry("poll.open", "poll:1")) == "Opened the poll"
        shown = entry("poll.results", "poll:1", shown=False)
        assert audit_words.action_words(shown) == "Hid the results"
        odd = audit_words.action_words(entry("idea.teleport", "idea:1"))
        assert odd == "Other change (idea.teleport)"
    finally:
        i18n._current.reset(token)


def test_subjects_read_as_names() -> None:
    names = audit_words.Names(
        polls={"12": "Finalen 2027"}, ideas={"4": "Digital postkasse"},
        users={"3": "jury@ks.no"}, editions={"2027": "Idékonkurransen 2027"},
        networks={"vest": "Digi Vest"},
    )  # fmt: skip
    token = i18n._current.set("en")
    try:
        expected = {
            "poll:12": "Finalen 2027",
            "idea:4": "Digital postkasse",
            "idea:99": "Idea number 99",
            "user:3": "jury@ks.no",
            "edition:2027": "Idékonkurransen 2027",
            "sheet:2027:4:3": "Jury sheet of jury@ks.no for Digital postkasse",
            "nominations:2027:vest": "Nominations of Digi Vest, Idékonkurransen 2027",
            "finalists:2027": "Finalists of Idékonkurransen 2027",
            "theme:finale": "The stage theme",
            "mystery:1": "mystery:1",
        }
        for subject, words in expected.items():
            assert names.subject(entry("x.y", subject)) == words, subject
        invited = entry("invitation.create", "invitation:Zx9", email="ny@ks.no")
        assert names.subject(invited) == "Invitation for ny@ks.no"
        made = entry("api_token.create", "api_token:5", name="Skjerm", user_id=3)
        assert names.subject(made) == "API token “Skjerm” of jury@ks.no"
    finally:
        i18n._current.reset(token)


def test_the_filter_matches_a_kind_a_subject_or_part_of_an_address() -> None:
    one = entry("poll.open", "poll:12", actor="kari@ks.no")
    assert audit_words.matches(one, "", "")
    assert audit_words.matches(one, "poll", "") and audit_words.matches(one, "poll:12", "KARI")
    assert not audit_words.matches(one, "poll:1", "") and not audit_words.matches(one, "po", "")
    assert not audit_words.matches(one, "", "ola@")


def test_new_criteria_get_ids_from_their_text_and_old_ones_keep_theirs() -> None:
    assert _new_id("Gevinst for brukerne", set()) == "gevinst-for-brukerne"
    assert _new_id("Særlig løsning på én gang", set()) == "saerlig-losning-pa-en-gang"
    assert _new_id("Behov", {"behov", "behov-2"}) == "behov-3"
    assert _new_id("!!!", set()) == "criterion"
    assert len(_new_id("x" * 300, set())) <= 40
    row = {"weight_{n}": "1,5", "scale_min_{n}": "1", "scale_max_{n}": "5"}
    values = {
        "id_1": "behov", "text_1": "Behov (omdøpt)",
        "text_2": "Behov", **{k.format(n=1): v for k, v in row.items()},
        **{k.format(n=2): v for k, v in row.items()},
        "id_3": "gammel",  # a row emptied by its organiser: dropped, with its hidden id
    }  # fmt: skip
    criteria = _criteria_from(values)
    assert [(c.id, c.text, c.weight) for c in criteria] == [
        ("behov", "Behov (omdøpt)", 1.5),
        ("behov-2", "Behov", 1.5),
    ]


@pytest.mark.asyncio
async def test_the_audit_page_names_things_in_oslo_time_and_filters(
    app: Starlette, client: httpx.AsyncClient, organiser: dict[str, str]
) -> None:
    poll = await create_poll(client, organiser, title="Finalen 2027")
    store = services_of(app).store
    await store.append_audit("ola@ks.no", "poll.open", f"poll:{poll['id']}")
    async with logged_in(app) as http:
        page = (await http.get("/admin/audit?lang=en")).text
        assert "Opened the poll" in page and "Created the poll" in page
        assert ">Finalen 2027</a>" in page and f">poll:{poll['id']}<" not in page
        assert re.search(r'<time datetime="[0-9-]+T[0-9:]+\+0[12]:00">\d\d\.\d\d\.\d{4} at', page)
        assert "(UTC)" not in page
        mine = (await http.get("/admin/audit?lang=en&who=OLA@")).text
        assert mine.count('<tr><td class="num">') == 1 and "Opened the poll" in mine
        polls = (await http.get(f"/admin/audit?lang=en&subject=poll:{poll['id']}")).text
        assert polls.count('<tr><td class="num">') == 2
        assert f'<option value="poll:{poll["id"]}" selected>Finalen 2027</option>' in polls
        people = (await http.get("/admin/audit?lang=en&subject=user")).text
        assert "Created the account" in people and "Opened the poll" not in people
        none = (await http.get("/admin/audit?lang=en&who=nobody")).text
        assert "No change matches the filter." in none


@pytest.mark.asyncio
async def test_a_filtered_page_reads_a_bounded_part_of_the_log(app: Starlette) -> None:
    store = services_of(app).store
    await store.append_audit("ola@ks.no", "poll.open", "poll:1")
    for start in range(0, 5_300, 1_000):  # more than one scan's worth, by someone else
        await asyncio.gather(*(store.append_audit("kari@ks.no", "poll.hide", f"poll:{n}")
                               for n in range(start, min(start + 1_000, 5_300))))  # fmt: skip
    async with logged_in(app) as http:
        first = (await http.get("/admin/audit?lang=en&who=ola@")).text
        assert '<tr><td class="num">' not in first
        found = re.search(r'\?before=(\d+)&amp;who=ola%40">Older changes', first)
        assert found and "Searched back to change no." in first
        second = (await http.get(f"/admin/audit?lang=en&who=ola@&before={found[1]}")).text
        assert second.count('<tr><td class="num">') == 1 and "Older changes" not in second
