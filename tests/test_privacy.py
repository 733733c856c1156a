"""Personal data: the audit log names contact persons by reference, the retention period
erases non-finalists' contact details (with a fixed clock), the per-person export and
erasure, on every real backend; and the organisers' pages under /admin/privacy."""

from __future__ import annotations

import asyncio
import functools
import json
import re
import subprocess
import sys
from datetime import datetime, timedelta

import httpx
import pytest
import pytest_asyncio
from starlette.applications import Starlette

from live.config import Settings
from live.contest.editions import OSLO, Edition, add_months, check_edition
from live.contest.ideas import check_idea
from live.contest.organisations import Directory
from live.contest.privacy import (
    ERASE_ACTION,
    RETENTION_ACTOR,
    erase_expired,
    erase_person,
    export_data,
    find_person,
    mentions,
)
from live.contest.records import PERSONAL_ANSWERS, Contest, Idea
from live.errors import BadRequest
from live.server import create_app
from live.store import Store
from live.store.models import AuditEntry, Role
from live.tokens import ContestLinks
from tests.conftest import BASE_URL, log_in, make_user, services_of
from tests.support.contest import idea_form

pytestmark = pytest.mark.asyncio

DIRECTORY = Directory.shipped()
YEAR = 2022
DATES: dict[str, object] = {
    "submission_deadline": "2022-03-26T23:59",
    "nomination_deadline": "2022-04-29T12:00",
    "jury_deadline": "2022-05-20T12:00",
    "finale_at": "2022-06-01T10:00",
}
EDITION = check_edition(str(YEAR), "Idékonkurransen 2022", "3", DATES, ())
ORGANISER = "org@ks.no"
KARI = {
    "contact_name": "Kari Nordmann",
    "contact_email": "kari.nordmann@stavanger.kommune.no",
    "contact_phone": "+47 51 50 70 90",
}
OLA = {"contact_name": "Ola Hansen", "contact_email": "ola@sola.kommune.no", "contact_phone": ""}


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(EDITION.submission_deadline - timedelta(days=1))


@pytest_asyncio.fixture
async def contest(store: Store, clock: Clock) -> Contest:
    found = Contest(store, ContestLinks("k" * 32), clock=clock)
    await found.save_edition(ORGANISER, EDITION, 0)
    return found


async def submit(contest: Contest, title: str, contact: dict[str, str], year: int = YEAR) -> Idea:
    answers, errors = check_idea(idea_form(title, **contact), DIRECTORY, submitting=True)
    assert errors == {}
    return await contest.save_idea(year, None, answers, submit=True)


async def make_finalists(store: Store, year: int, idea_ids: list[int]) -> None:
    await store.put_record(
        "finalists",
        str(year),
        {"idea_ids": idea_ids, "by": ORGANISER},
        expected_version=0,
        actor=ORGANISER,
        action="finalists.select",
    )


def audit_text(entries: list[AuditEntry]) -> str:
    return json.dumps([[e.actor, e.before, e.after] for e in entries], ensure_ascii=False)


# The audit log ---------------------------------------------------------------------------


async def test_no_personal_value_of_a_new_idea_reaches_the_audit_log(contest: Contest) -> None:
    idea = await submit(contest, "Chatbot", KARI)
    answers = {**idea.answers, "contact_phone": "99 88 77 66", "need": "Nytt behov"}
    await contest.save_idea(YEAR, idea.id, answers, submit=False)
    await contest.withdraw_idea(idea.id)
    await contest.reroute(ORGANISER, idea.id, "digiviken", "Feil nettverk")

    entries = await contest.store.list_audit()
    text = audit_text(entries)
    for value in (*KARI.values(), "99 88 77 66", "kari.nordmann", idea.nonce):
        assert value not in text, value
    first = next(e for e in entries if e.subject == f"idea:{idea.id}")
    assert first.actor == f"idea:{idea.id} (idea form)"
    assert first.after["answers.contact_email"] == {"personal": f"idea:{idea.id}#contact_email"}
    changed = next(e for e in entries if e.action == "idea.save")
    assert set(changed.after) == {"answers.contact_phone", "answers.need"}  # still says what
    assert changed.after["answers.need"] == "Nytt behov"
    reroute = next(e for e in entries if e.action == "idea.reroute")
    assert reroute.after["network_id"] == "digiviken" and "answers" not in reroute.after


# Retention ---------------------------------------------------------------------------------


async def test_the_retention_period_counts_calendar_months_in_norwegian_time() -> None:
    assert EDITION.retention_months == 6
    assert EDITION.contacts_erased_from == datetime(2022, 12, 1, 10, 0, tzinfo=OSLO)
    assert add_months(datetime(2022, 8, 31, 12, tzinfo=OSLO), 6) == datetime(
        2023, 2, 28, 12, tzinfo=OSLO
    )
    # Summer time to winter time: the same wall-clock hour.
    assert add_months(datetime(2022, 6, 1, 10, tzinfo=OSLO), 5).utcoffset() == timedelta(hours=1)
    assert add_months(datetime(2022, 11, 15, 10, tzinfo=OSLO), 120).year == 2032


@pytest.mark.parametrize("months", ["0", "121", "-1", "6.5", "seks", "", "٦", "0006"])
async def test_the_retention_setting_is_a_whole_number_of_months_from_1_to_120(months: str) -> None:
    with pytest.raises(BadRequest) as refused:
        check_edition(str(YEAR), "T", "3", DATES, (), months)
    assert refused.value.field == "retention_months"


async def test_the_retention_setting_is_kept_with_the_edition() -> None:
    edition = check_edition(str(YEAR), "T", "3", DATES, (), " 12 ")
    assert edition.retention_months == 12
    assert Edition.from_data(edition.to_data()) == edition
    old = edition.to_data()
    del old["retention_months"]  # an edition saved before the setting existed
    assert Edition.from_data(old).retention_months == 6
    assert check_edition(str(YEAR), "T", "3", DATES, (), "120").retention_months == 120


async def test_retention_erases_the_contacts_of_non_finalists_once(
    contest: Contest, clock: Clock
) -> None:
    store = contest.store
    finalist = await submit(contest, "Finalist", KARI)
    other = await submit(contest, "Annen", OLA)
    draft_answers, _ = check_idea(idea_form("Utkast", **OLA), DIRECTORY, submitting=False)
    draft = await contest.save_idea(YEAR, None, draft_answers, submit=False)
    later = check_edition(
        "2023", "2023", "3", {k: str(v).replace("2022", "2023") for k, v in DATES.items()}, (), "1"
    )
    await contest.save_edition(ORGANISER, later, 0)
    clock.now = later.submission_deadline - timedelta(days=1)
    next_year = await contest.save_idea(
        2023,
        None,
        check_idea(idea_form("Neste år", **OLA), DIRECTORY, submitting=True)[0],
        submit=True,
    )
    await make_finalists(store, YEAR, [finalist.id])

    clock.now = EDITION.contacts_erased_from - timedelta(minutes=1)
    assert await erase_expired(contest) == []
    assert (await contest.idea(other.id)).answers["contact_email"] == OLA["contact_email"]

    clock.now = EDITION.contacts_erased_from
    assert sorted(await erase_expired(contest)) == [other.id, draft.id]
    for idea_id in (other.id, draft.id):
        erased = await contest.idea(idea_id)
        assert all(erased.answers[name] == "" for name in PERSONAL_ANSWERS)
        assert erased.contact_erased_at is not None and erased.title in ("Annen", "Utkast")
        assert erased.answers["need"]  # the idea stays
    assert (await contest.idea(finalist.id)).answers["contact_email"] == KARI["contact_email"]
    assert (await contest.idea(next_year.id)).answers["contact_email"] == OLA["contact_email"]

    # Again, or at once in several processes: nothing more is written.
    assert await erase_expired(contest) == []
    erasures = [e for e in await store.list_audit() if e.action == ERASE_ACTION]
    assert sorted(int(e.subject.split(":")[1]) for e in erasures) == [other.id, draft.id]
    assert {e.actor for e in erasures} == {RETENTION_ACTOR}
    assert "Ola" not in audit_text(erasures) and "sola.kommune" not in audit_text(erasures)
    assert erasures[0].after["answers.contact_email"] == ""
    assert erasures[0].before["answers.contact_name"] == {
        "personal": f"{erasures[0].subject}#contact_name"
    }

    # The next edition's one-month period passes later; two processes race for it.
    clock.now = later.contacts_erased_from + timedelta(hours=1)
    results = await asyncio.gather(erase_expired(contest), erase_expired(contest))
    assert sorted(results[0] + results[1]) == [next_year.id]
    assert (await contest.idea(finalist.id)).answers["contact_name"] == KARI["contact_name"]


# The export and erasure on request -----------------------------------------------------


async def test_the_export_holds_everything_about_one_address(contest: Contest) -> None:
    store = contest.store
    mine = await submit(
        contest, "Min idé", {**KARI, "contact_email": "Kari.Nordmann@Stavanger.kommune.no"}
    )
    theirs = await submit(contest, "Deres idé", OLA)
    user = await store.create_user(KARI["contact_email"], Role.JURY, None, actor=ORGANISER)
    await store.put_record(
        "invitation",
        "abc",
        {"user_id": user.id, "email": user.email, "by": ORGANISER},
        expected_version=0,
        actor=ORGANISER,
        action="invitation.create",
    )
    await store.append_audit(user.email, "jury.score", f"sheet:{YEAR}:{theirs.id}:{user.id}")
    await store.append_audit("nikari.nordmann@stavanger.kommune.no", "poll.open", "poll:1")

    found = await find_person(contest, "  KARI.NORDMANN@stavanger.kommune.no ")
    assert [i.id for i in found.ideas] == [mine.id]
    assert [a["email"] for a in found.accounts] == [user.email]
    assert [(r["kind"], r["key"]) for r in found.records] == [("invitation", "abc")]
    subjects = [e.subject for e in found.audit]
    assert f"idea:{mine.id}" in subjects and f"sheet:{YEAR}:{theirs.id}:{user.id}" in subjects
    assert "poll:1" not in subjects and f"idea:{theirs.id}" not in subjects

    document = json.loads(json.dumps(export_data(found), ensure_ascii=False))
    assert document["ideas"][0]["answers"]["contact_phone"] == KARI["contact_phone"]
    assert "nonce" not in document["ideas"][0] and mine.nonce not in json.dumps(document)
    assert "password_hash" not in json.dumps(document)
    assert {e["action"] for e in document["audit"]} >= {"idea.submit", "jury.score"}

    assert (await find_person(contest, "nobody@example.no")).is_empty


async def test_erasure_on_request_reaches_the_idea_and_leaves_the_rest(contest: Contest) -> None:
    store = contest.store
    mine = await submit(contest, "Min idé", KARI)
    theirs = await submit(contest, "Deres idé", OLA)
    await make_finalists(store, YEAR, [mine.id])
    # An entry written before contact persons were named by reference keeps the address.
    await store.append_audit(
        f"{KARI['contact_email']} (idea form)",
        "idea.save",
        f"idea:{mine.id}",
        None,
        {"answers.contact_email": KARI["contact_email"]},
    )

    assert await erase_person(contest, KARI["contact_email"].upper(), actor=ORGANISER) == [mine.id]
    erased = await contest.idea(mine.id)
    assert erased.answers["contact_email"] == "" and erased.contact_erased_at
    assert (await contest.idea(theirs.id)).answers["contact_email"] == OLA["contact_email"]
    assert await erase_person(contest, KARI["contact_email"], actor=ORGANISER) == []

    left = await find_person(contest, KARI["contact_email"])
    assert left.ideas == [] and left.left_in_audit == 1  # the old entry: the log is append-only
    entry = next(e for e in await store.list_audit() if e.action == ERASE_ACTION)
    assert entry.actor == ORGANISER and "Kari" not in audit_text([entry])
    # Nothing the idea still holds names her, and new entries never did.
    text = json.dumps(erased.to_data(), ensure_ascii=False)
    assert not any(value in text for value in KARI.values())
    entries = await store.list_audit()
    newer = [[e.actor, e.before, e.after] for e in entries if e.actor.startswith(("idea:", "org"))]
    assert len(newer) == len(entries) - 1 and not mentions(newer, KARI["contact_email"])


async def test_an_address_is_found_whole() -> None:
    assert mentions({"a": ["x", "Ola@Sola.kommune.no"]}, "ola@sola.kommune.no")
    assert not mentions({"a": "kola@sola.kommune.no"}, "ola@sola.kommune.no")
    assert not mentions("ola@sola.kommune.no.evil", "ola@sola.kommune.no")


# The organisers' pages -----------------------------------------------------------------------


async def test_the_pages_look_up_export_and_erase_in_two_steps(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    services = services_of(app)
    await services.contest.save_edition(ORGANISER, EDITION, 0)
    services.contest.clock = Clock(EDITION.submission_deadline - timedelta(days=1))
    idea = await submit(services.contest, "Chatbot", KARI)
    await make_user(app, "org@example.no", Role.ORGANISER)
    await make_user(app, "host@example.no", Role.HOST)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as host:
        assert (await log_in(host, "host@example.no")).status_code == 303
        assert (await host.get("/admin/privacy")).status_code == 403
    assert (await log_in(client, "org@example.no")).status_code == 303

    page = await client.get("/admin/privacy")
    assert page.status_code == 200 and 'href="/admin/privacy" aria-current="page"' in page.text
    assert "01.12.2022 10:00" in page.text  # the edition's retention period ends
    token = csrf_of(page.text)
    bad = await client.post("/admin/privacy", data={"csrf": token, "email": "kari"})
    assert bad.status_code == 400 and 'aria-invalid="true"' in bad.text
    found = await client.post(
        "/admin/privacy", data={"csrf": token, "email": KARI["contact_email"]}
    )
    assert found.status_code == 200 and "Chatbot" in found.text
    assert KARI["contact_email"] not in str(found.url)

    exported = await client.post(
        "/admin/privacy/export", data={"csrf": token, "email": KARI["contact_email"]}
    )
    assert exported.status_code == 200 and "attachment" in exported.headers["content-disposition"]
    assert exported.json()["ideas"][0]["answers"]["contact_name"] == KARI["contact_name"]
    forged = await client.post(
        "/admin/privacy/export", data={"csrf": "x", "email": KARI["contact_email"]}
    )
    assert forged.status_code == 403

    ask = await client.post(
        "/admin/privacy/erase",
        data={"csrf": token, "email": KARI["contact_email"], "step": "confirm"},
    )
    assert ask.status_code == 200 and 'name="confirm"' in ask.text
    assert (await services.contest.idea(idea.id)).answers["contact_email"]  # not yet
    unticked = await client.post(
        "/admin/privacy/erase",
        data={"csrf": token, "email": KARI["contact_email"], "step": "erase"},
    )
    assert (
        unticked.status_code == 400
        and (await services.contest.idea(idea.id)).answers["contact_email"]
    )
    done = await client.post(
        "/admin/privacy/erase",
        data={"csrf": token, "email": KARI["contact_email"], "step": "erase", "confirm": "erase"},
    )
    assert done.status_code == 200 and "Chatbot" in done.text
    assert (await services.contest.idea(idea.id)).answers["contact_email"] == ""
    actions = [(e.actor, e.action) for e in await services.store.list_audit()]
    assert ("org@example.no", "privacy.export") in actions
    assert ("org@example.no", ERASE_ACTION) in actions
    assert KARI["contact_email"] not in audit_text(await services.store.list_audit())


async def test_the_edition_form_keeps_the_retention_setting(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    await make_user(app, "org@example.no", Role.ORGANISER)
    assert (await log_in(client, "org@example.no")).status_code == 303
    page = await client.get("/admin/contest/new")
    assert 'name="retention_months"' in page.text and 'value="6"' in page.text
    form = {
        "csrf": csrf_of(page.text),
        "version": "0",
        "year": "2031",
        "title": "T",
        "finalists": "5",
        **{k: str(v).replace("2022", "2031") for k, v in DATES.items()},
    }
    refused = await client.post("/admin/contest/new", data={**form, "retention_months": "200"})
    assert refused.status_code == 400 and 'id="f-retention_months-error"' in refused.text
    saved = await client.post("/admin/contest/new", data={**form, "retention_months": "9"})
    assert saved.status_code == 303
    edition, _ = await services_of(app).contest.edition(2031)
    assert edition.retention_months == 9
    again = await client.get("/admin/contest/2031/edit")
    assert re.search(r'name="retention_months"[^>]*value="9"', again.text)


async def test_each_process_erases_at_start_and_the_command_does_too(settings: Settings) -> None:
    old = check_edition(
        "2020", "2020", "3", {k: str(v).replace("2022", "2020") for k, v in DATES.items()}, ()
    )
    first = create_app(settings)
    async with first.router.lifespan_context(first):
        contest = services_of(first).contest
        await contest.save_edition(ORGANISER, old, 0)
        contest.clock = Clock(old.submission_deadline - timedelta(days=1))
        sent = await submit(contest, "Gammel idé", KARI, year=2020)
    second = create_app(settings)
    async with second.router.lifespan_context(second):
        contest = services_of(second).contest
        for _ in range(200):  # the retention task runs as the process starts
            if not (await contest.idea(sent.id)).answers["contact_email"]:
                break
            await asyncio.sleep(0.05)
        assert (await contest.idea(sent.id)).contact_erased_at
        contest.clock = Clock(old.submission_deadline - timedelta(days=1))
        later = await submit(contest, "Enda en", OLA, year=2020)

    env = {"PATH": "/usr/bin:/bin", "LIVE_DATA_DIR": str(settings.data_dir)}
    command = [sys.executable, "-m", "live", "erase-expired"]
    run = functools.partial(subprocess.run, command, env=env, capture_output=True, text=True)
    done = await asyncio.to_thread(run, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"erased the contact details of 1 ideas (numbers: {later.id})"
    again = await asyncio.to_thread(run, timeout=60)
    assert again.stdout.strip() == "erased the contact details of 0 ideas (numbers: none)"


def csrf_of(text: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', text)
    assert found
    return found.group(1)
