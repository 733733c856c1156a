"""A whole contest through the HTTP interface, on SQLite and on Redis: the call, ideas
from the public form, routing and re-routing, invitations, nominations, the jury,
finalists, the finale poll created from them, the vote, and the locked winners."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from starlette.applications import Starlette

from live.config import Settings
from live.contest.editions import OSLO
from live.store.models import Role
from live.store.timestamps import now_ms
from tests.conftest import BASE_URL, api_headers, log_in, make_user

pytestmark = pytest.mark.asyncio

YEAR = 2031
ROGALAND = ["m:1103", "m:1101", "m:1106", "m:1108", "m:1111"]  # Stavanger, Eigersund, …


@pytest.fixture(params=["sqlite", "redis"])
def settings(request: pytest.FixtureRequest, make_settings: Callable[..., Settings]) -> Settings:
    if request.param == "sqlite":
        return make_settings()
    return make_settings(LIVE_STORE_URL=request.getfixturevalue("redis_url"))


def new_client(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL)


@pytest_asyncio.fixture
async def organiser_client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    await make_user(app, "arrangor@ks.no", Role.ORGANISER)
    async with new_client(app) as http:
        answer = await log_in(http, "arrangor@ks.no")
        assert answer.status_code == 303
        yield http


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def field_value(html: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}"[^>]*value="([^"]+)"', html)
    assert found, f"no #{element_id} on the page"
    return found.group(1).replace("&amp;", "&")


async def post_form(
    http: httpx.AsyncClient, page: str, action: str | None = None, **data: Any
) -> httpx.Response:
    """Post a form the way a browser does: the page first, its CSRF token along."""
    html = (await http.get(page)).text
    return await http.post(action or page, data={"csrf": csrf_of(html), **data})


def local(moment: datetime) -> str:
    return moment.astimezone(OSLO).strftime("%Y-%m-%dT%H:%M")


async def set_deadlines(
    http: httpx.AsyncClient, *, finalists: int = 5, **shift_days: float
) -> None:
    """Move the deadlines relative to now, as an organiser does on the edition form."""
    page = (await http.get(f"/admin/contest/{YEAR}/edit")).text
    now = datetime.now(OSLO)
    days = {
        "submission_deadline": 1,
        "nomination_deadline": 2,
        "jury_deadline": 3,
        "finale_at": 4,
        **shift_days,
    }
    answer = await http.post(
        f"/admin/contest/{YEAR}/edit",
        data={
            "csrf": csrf_of(page),
            "version": field_value(page, "version-field"),
            "title": "Idékonkurransen 2031",
            "finalists": str(finalists),
            **{name: local(now + timedelta(days=d)) for name, d in days.items()},
        },
    )
    assert answer.status_code == 303, answer.text


async def create_edition(http: httpx.AsyncClient) -> None:
    """The organiser's new edition: ideas for a day, then a day for each later stage."""
    now = datetime.now(OSLO)
    created = await post_form(
        http,
        "/admin/contest/new",
        year=str(YEAR),
        title="Idékonkurransen 2031",
        finalists="5",
        submission_deadline=local(now + timedelta(days=1)),
        nomination_deadline=local(now + timedelta(days=2)),
        jury_deadline=local(now + timedelta(days=3)),
        finale_at=local(now + timedelta(days=4)),
    )
    assert created.status_code == 303 and created.headers["location"] == f"/admin/contest/{YEAR}"


def idea_form(owner: str, title: str, **extra: Any) -> dict[str, Any]:
    return {
        "title": title,
        "owner": owner,
        "contact_name": "Kari Nordmann",
        "contact_email": "kari@kommune.no",
        "need": "Innbyggerne venter for lenge.",
        "benefit_quantitative": "Sparer 2000 timer i året.",
        "benefit_qualitative": "Bedre svar.",
        "goals": ["2", "5"],
        "goals_text": "Sammenhengende tjenester.",
        "life_events": ["have-a-child"],
        "execution_risk_level": "low",
        "execution_risk_text": "Kjent teknologi.",
        "benefit_risk_level": "medium",
        "benefit_risk_text": "Krever ny praksis.",
        "criticality_level": "high",
        "criticality_text": "Lovkrav fra 2032.",
        "novelty": "scale_up",
        "action": "submit",
        **extra,
    }


async def submit_idea(app: Starlette, form: dict[str, Any]) -> str:
    """Send an idea as the public does (no account); its private link."""
    async with new_client(app) as public:
        answer = await public.post(f"/ideer/{YEAR}/ny", data=form)
        assert answer.status_code == 303, answer.text
        assert answer.headers["location"].startswith("/ideer/lenke/")
        return answer.headers["location"].split("?")[0]


async def accept_invitation(
    app: Starlette, organiser: httpx.AsyncClient, email: str, role: str, network_id: str = ""
) -> httpx.AsyncClient:
    """Invite someone, open the link as them and choose a password: a logged-in client."""
    answer = await post_form(
        organiser, "/admin/people", email=email, role=role, network_id=network_id
    )
    assert answer.status_code == 200, answer.text
    link = httpx.URL(field_value(answer.text, "invitation-link")).path
    person = new_client(app)
    choose = await person.post(
        link, data={"password": "eit langt passord", "password_again": "eit langt passord"}
    )
    assert choose.status_code == 303 and choose.headers["location"] == "/admin"
    used = await new_client(app).get(link)
    assert used.status_code == 410 and "brukt" in used.text  # one-time
    return person


async def idea_action(
    http: httpx.AsyncClient, idea_id: int | str, action: str, **data: Any
) -> httpx.Response:
    """A button on an idea's admin page: nominate, withdraw or reroute."""
    page = f"/admin/contest/{YEAR}/ideas/{idea_id}"
    return await post_form(http, page, f"{page}/{action}", **data)


def ids_in(html: str, pattern: str) -> list[int]:
    return [int(n) for n in re.findall(pattern, html)]


async def test_a_whole_contest_from_ideas_to_locked_winners(
    app: Starlette, organiser_client: httpx.AsyncClient
) -> None:
    org = organiser_client

    # 1. The organiser sets up the edition; the public call opens.
    await create_edition(org)
    call = await new_client(app).get("/ideer")
    assert "Send inn en idé" in call.text and 'aria-current="step"' in call.text

    # 2. Invitations: two coordinators and two jury members choose their passwords.
    rogaland = await accept_invitation(app, org, "digi@rogaland.no", "coordinator", "digi-rogaland")
    college = await accept_invitation(app, org, "kollegiet@ks.no", "coordinator", "kollegiet")
    jury_a = await accept_invitation(app, org, "jury.a@ks.no", "jury")
    jury_b = await accept_invitation(app, org, "jury.b@ks.no", "jury")

    # 3. Ideas from the public form. An incomplete submission names each missing field.
    async with new_client(app) as public:
        incomplete = await public.post(
            f"/ideer/{YEAR}/ny", data={"title": "Halvferdig", "action": "submit"}
        )
        assert incomplete.status_code == 400
        assert 'href="#f-need"' in incomplete.text and 'aria-invalid="true"' in incomplete.text
        draft = await public.post(f"/ideer/{YEAR}/ny", data={"title": "Utkast", "action": "draft"})
        assert draft.status_code == 303 and "saved=1" in draft.headers["location"]
        draft_link = draft.headers["location"].split("?")[0]
        finished = await public.post(draft_link, data=idea_form("m:1103", "Utkast ferdig"))
        assert finished.status_code == 303 and "submitted=1" in finished.headers["location"]
    for number, owner in enumerate(ROGALAND[1:], start=2):
        await submit_idea(app, idea_form(owner, f"Rogaland-idé {number}"))
    await submit_idea(app, idea_form("c:11", "Fylkets idé"))
    await submit_idea(app, idea_form("m:0301", "Oslos idé"))
    company_link = await submit_idea(
        app, idea_form("m:1103", "Selskapets idé", company_name="Stavanger Digital AS")
    )

    # 4. Routing by the call's rules, seen by the organiser.
    overview = (await org.get(f"/admin/contest/{YEAR}/ideas")).text
    assert "Ikke rutet" in overview and "Oslos idé" in overview
    ideas = (await org.get(f"/admin/contest/{YEAR}/export/ideas.csv")).text
    rows = list(csv.DictReader(io.StringIO(ideas.lstrip("\ufeff")), delimiter=";"))
    by_title = {row["title"]: row for row in rows}
    assert len(rows) == 8 and all(row["status"] == "submitted" for row in rows)
    assert by_title["Fylkets idé"]["network_id"] == "kollegiet"
    assert by_title["Oslos idé"]["network_id"] == ""
    assert by_title["Selskapets idé"]["owner"] == "Stavanger Digital AS (Stavanger kommune)"
    assert {by_title[f"Rogaland-idé {n}"]["network_id"] for n in range(2, 6)} == {"digi-rogaland"}
    oslo_id = int(by_title["Oslos idé"]["id"])

    # 5. The organiser re-routes Oslo's idea to the college, on record.
    moved = await idea_action(
        org, oslo_id, "reroute", network_id="kollegiet", note="Oslo er også fylke"
    )
    assert moved.status_code == 303

    # 6. Nominations open at the submission deadline; the private link then refuses edits.
    early = await idea_action(
        rogaland, by_title["Utkast ferdig"]["id"], "nominate", rationale="For tidlig"
    )
    assert early.status_code == 409
    await set_deadlines(org, submission_deadline=-0.01)
    async with new_client(app) as public:
        late = await public.post(company_link, data=idea_form("m:1103", "For sent"))
        assert late.status_code == 409 and "fristen" in late.text.lower()
    mine = (await rogaland.get(f"/admin/contest/{YEAR}/ideas")).text
    assert "Fylkets idé" not in mine and "Rogaland-idé 2" in mine  # only their own network
    rogaland_ids = [
        int(by_title[t]["id"])
        for t in ("Utkast ferdig", "Rogaland-idé 2", "Rogaland-idé 3", "Rogaland-idé 4")
    ]
    for idea_id in rogaland_ids[:3]:
        answer = await idea_action(
            rogaland, idea_id, "nominate", rationale="Stor nytte for mange kommuner."
        )
        assert answer.status_code == 303, answer.text
    fourth = await idea_action(rogaland, rogaland_ids[3], "nominate", rationale="En til")
    assert fourth.status_code == 409 and "har allerede nominert 3" in fourth.text
    withdrawn = await idea_action(
        rogaland,
        rogaland_ids[2],
        "withdraw",
    )
    assert withdrawn.status_code == 303
    freed = await idea_action(rogaland, rogaland_ids[3], "nominate", rationale="Fikk plassen.")
    assert freed.status_code == 303
    county_id = int(by_title["Fylkets idé"]["id"])
    others = await rogaland.post(
        f"/admin/contest/{YEAR}/ideas/{county_id}/nominate",
        data={"csrf": csrf_of(mine), "rationale": "Ikke vår"},
    )
    assert others.status_code == 403
    for idea_id in (county_id, oslo_id):
        answer = await idea_action(college, idea_id, "nominate", rationale="Viktig for fylkene.")
        assert answer.status_code == 303, answer.text
    nominated = [rogaland_ids[0], rogaland_ids[1], rogaland_ids[3], county_id, oslo_id]

    # 7. The jury scores; one member declares a conflict of interest.
    await set_deadlines(org, submission_deadline=-0.02, nomination_deadline=-0.01)
    listing = (await jury_a.get(f"/admin/contest/{YEAR}/jury")).text
    assert sorted(ids_in(listing, rf"/admin/contest/{YEAR}/jury/(\d+)")) == sorted(nominated)
    sheet_page = (await jury_a.get(f"/admin/contest/{YEAR}/jury/{county_id}")).text
    assert "2. Flere oppgaver løses digitalt" in sheet_page  # the goal, not its number
    criteria = re.findall(r'name="(score_[a-z-]+)"', sheet_page)
    assert len(criteria) == 7
    bad = await post_form(
        jury_a, f"/admin/contest/{YEAR}/jury/{county_id}", **dict.fromkeys(criteria, "9")
    )
    assert bad.status_code == 400 and "fra 1 til 5" in bad.text
    points = dict(zip(nominated, (5, 4, 3, 2, 1), strict=True))
    for idea_id, score in points.items():
        for member in (jury_a, jury_b):
            conflict = member is jury_b and idea_id == county_id
            extra = {"conflict": "yes"} if conflict else dict.fromkeys(criteria, str(score))
            answer = await post_form(
                member, f"/admin/contest/{YEAR}/jury/{idea_id}", comment="Godt begrunnet.", **extra
            )
            assert answer.status_code == 303, answer.text

    # 8. The ranking, the finalists and the finale poll, in one action each.
    await set_deadlines(
        org, submission_deadline=-0.03, nomination_deadline=-0.02, jury_deadline=-0.01
    )
    ranking = (await org.get(f"/admin/contest/{YEAR}/ranking")).text
    order = ids_in(ranking, r'name="idea" value="(\d+)"')
    assert order == nominated  # scored 5, 4, 3, 2, 1
    assert ranking.count(" checked") == 5  # the top five chosen to begin with
    chosen = await post_form(
        org, f"/admin/contest/{YEAR}/ranking", f"/admin/contest/{YEAR}/finalists/select", idea=order
    )
    assert chosen.status_code == 303
    created_poll = await post_form(
        org, f"/admin/contest/{YEAR}/ranking", f"/admin/contest/{YEAR}/finalists/poll"
    )
    assert created_poll.status_code == 303
    poll_id = int(created_poll.headers["location"].rsplit("/", 1)[1])

    # 9. The finale: open, vote, close; the winners are locked.
    headers = await api_headers(app, "api@ks.no")
    poll = (await org.get(f"/api/polls/{poll_id}", headers=headers)).json()
    ranked = ["Utkast ferdig", "Rogaland-idé 2", "Rogaland-idé 4", "Fylkets idé", "Oslos idé"]
    finalist = {f["name"]: f for f in poll["finalists"]}  # the stage's order is drawn
    assert sorted(finalist) == sorted(ranked) and len(poll["finalists"]) == len(ranked)
    assert finalist["Fylkets idé"]["owner"] == "Rogaland fylkeskommune"
    assert (
        await post_form(org, f"/admin/polls/{poll_id}", f"/admin/polls/{poll_id}/open")
    ).status_code == 303
    votes = [3] * 6 + [0] * 4 + [4] * 3 + [1] * 2 + [2]
    for choice in votes:
        async with new_client(app) as phone:
            await phone.get(f"/p/{poll['code']}")
            cast = await phone.post(
                f"/p/{poll['code']}", data={"choice": str(finalist[ranked[choice]]["id"])}
            )
            assert cast.status_code == 303
    asked_at = str(now_ms() - 2000)  # the second step of closing, taken a moment later
    assert (
        await post_form(
            org, f"/admin/polls/{poll_id}", f"/admin/polls/{poll_id}/close",
            confirm="yes", asked_at=asked_at,
        )
    ).status_code == 303  # fmt: skip
    result = (await org.get(f"/api/polls/{poll_id}/results", headers=headers)).json()
    assert result["status"] == "closed" and result["ballots"] == 16
    names = {f["id"]: f["name"] for f in poll["finalists"]}
    assert [names[w] for w in result["winners"]] == ["Fylkets idé", "Utkast ferdig", "Oslos idé"]

    # 10. Exports and the audit log tell the whole story.
    nominations = (await org.get(f"/admin/contest/{YEAR}/export/nominations.csv")).text
    assert nominations.count("\r\n") == 1 + 5 and "Fikk plassen." in nominations
    scores = (await org.get(f"/admin/contest/{YEAR}/export/scores.csv")).text
    assert scores.count("\r\n") == 1 + 10 and ";yes;" in scores
    audit = (await org.get("/admin/audit.csv")).text
    for action in (
        "edition.create",
        "invitation.create",
        "invitation.accept",
        "idea.submit",
        "idea.reroute",
        "nomination.add",
        "nomination.withdraw",
        "jury.score",
        "jury.conflict",
        "finalists.select",
        "finalists.stage_order",
        "edition.update",
        "poll.open",
        "poll.close",
    ):
        assert f";{action};" in audit, action
    assert "Oslo er også fylke" in audit
    for coordinator in (rogaland, college):
        await coordinator.aclose()
    await jury_a.aclose()
    await jury_b.aclose()


async def test_concurrent_nomination_clicks_never_make_a_fourth(
    app: Starlette, organiser_client: httpx.AsyncClient
) -> None:
    """Two coordinators of one network click "nominate" on six ideas at the same moment."""
    org = organiser_client
    await create_edition(org)
    for number in range(6):
        await submit_idea(app, idea_form(ROGALAND[number % 5], f"Idé {number}"))
    await set_deadlines(org, submission_deadline=-0.01)
    first = await accept_invitation(app, org, "en@rogaland.no", "coordinator", "digi-rogaland")
    second = await accept_invitation(app, org, "to@rogaland.no", "coordinator", "digi-rogaland")
    listing = (await first.get(f"/admin/contest/{YEAR}/ideas")).text
    ideas = ids_in(listing, rf"/admin/contest/{YEAR}/ideas/(\d+)")
    assert len(ideas) == 6
    tokens = {first: csrf_of(listing), second: csrf_of((await second.get("/admin/contest")).text)}
    clicks = [
        coordinator.post(
            f"/admin/contest/{YEAR}/ideas/{idea_id}/nominate",
            data={"csrf": tokens[coordinator], "rationale": "Samtidig klikk"},
        )
        for idea_id in ideas
        for coordinator in (first, second)
    ]
    answers = await asyncio.gather(*clicks)
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [303] * 3 + [409] * 9
    exported = (await org.get(f"/admin/contest/{YEAR}/export/nominations.csv")).text
    assert exported.count("Samtidig klikk") == 3
    audit = (await org.get("/admin/audit?lang=en")).text  # actions in plain words
    assert audit.count("Nominated an idea") == 3
    for coordinator in (first, second):
        await coordinator.aclose()


# What the senders meet: withdrawal and the news of their ideas, by mail -----------------


@pytest_asyncio.fixture(params=["sqlite", "redis"])
async def mailing_contest(
    request: pytest.FixtureRequest, make_settings: Callable[..., Settings]
) -> AsyncIterator[tuple[Starlette, list[Any]]]:
    """An app that mails through a real SMTP server; the messages it took, as they come."""
    from email import message_from_bytes, policy

    from aiosmtpd.controller import Controller

    from live.server import create_app
    from tests.support.redis_server import free_port

    received: list[Any] = []

    class Inbox:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            received.append(message_from_bytes(envelope.content, policy=policy.default))
            return "250 OK"

    controller = Controller(Inbox(), hostname="127.0.0.1", port=free_port())
    controller.start()
    store = {} if request.param == "sqlite" else {
        "LIVE_STORE_URL": request.getfixturevalue("redis_url")}  # fmt: skip
    app = create_app(make_settings(LIVE_SMTP_URL=f"smtp://127.0.0.1:{controller.port}", **store))
    try:
        async with app.router.lifespan_context(app):
            yield app, received
    finally:
        controller.stop()


async def test_senders_withdraw_and_hear_what_happens_to_their_ideas(
    mailing_contest: tuple[Starlette, list[Any]],
) -> None:
    from tests.conftest import services_of

    app, received = mailing_contest

    def mails_to(address: str) -> list[tuple[str, str]]:
        """The subject and body of each mail to `address` since the last look."""
        found = [m for m in received if m["To"] == address]
        for mail in found:
            received.remove(mail)
        return [
            (str(m["Subject"]), str(m.get_body(("plain",)).get_content()).replace("\r\n", "\n"))
            for m in found
        ]

    await make_user(app, "arrangor@ks.no", Role.ORGANISER)
    org = new_client(app)
    assert (await log_in(org, "arrangor@ks.no")).status_code == 303
    await create_edition(org)
    rogaland = await accept_invitation(app, org, "digi@rogaland.no", "coordinator", "digi-rogaland")
    college = await accept_invitation(app, org, "kollegiet@ks.no", "coordinator", "kollegiet")

    # 1. Ideas in three languages; each sender gets the private link by mail at once.
    senders = {  # title: (owner, the sender's language)
        "Alfa": ("m:1103", "en"), "Bravo": ("m:1101", "nn"), "Charlie": ("m:1106", "en"),
        "Delta": ("m:1108", "en"), "Echo": ("m:1111", "en"), "Foxtrot": ("c:11", "nn"),
        "Golf": ("m:0301", "en"), "Hotel": ("c:11", "en"),
    }  # fmt: skip
    links: dict[str, str] = {}
    for title, (owner, language) in senders.items():
        async with new_client(app) as public:
            answer = await public.post(
                f"/ideer/{YEAR}/ny?lang={language}",
                data=idea_form(owner, title, contact_email=f"{title.lower()}@kommune.no"),
            )
            assert answer.status_code == 303, answer.text
            links[title] = answer.headers["location"].split("?")[0]
        [(subject, body)] = mails_to(f"{title.lower()}@kommune.no")
        assert f"{BASE_URL}{links[title]}\n" in body
    ids = {idea.title: idea.id for idea in await services_of(app).contest.ideas(YEAR)}

    # 2. Echo withdraws for good; Delta withdraws and thinks better of it. Two steps each.
    async with new_client(app) as public:
        for title in ("Echo", "Delta"):
            ask = await public.get(f"{links[title]}/trekk?lang=en")
            assert ask.status_code == 200 and "Yes, withdraw the idea" in ask.text
            done = await public.post(f"{links[title]}/trekk")
            assert done.status_code == 303
            [(subject, _)] = mails_to(f"{title.lower()}@kommune.no")
            assert subject == f"Your idea is withdrawn: {title}"
        again = await public.post(
            f"{links['Delta']}?lang=en",
            data=idea_form("m:1108", "Delta", contact_email="delta@kommune.no"),
        )
        assert again.status_code == 303 and "submitted=1" in again.headers["location"]
        [(subject, _)] = mails_to("delta@kommune.no")
        assert subject == "Your idea is submitted: Delta"

    # 3. The organiser moves Oslo's idea; its sender hears where it went, in English.
    moved = await idea_action(org, ids["Golf"], "reroute", network_id="kollegiet", note="Fylke")
    assert moved.status_code == 303
    [(subject, body)] = mails_to("golf@kommune.no")
    assert subject == "News about your idea: Golf" and "Kollegiet" in body

    # 4. The deadline passes: a withdrawn idea is nowhere in its network's list.
    await set_deadlines(org, submission_deadline=-0.01)
    mine = (await rogaland.get(f"/admin/contest/{YEAR}/ideas")).text
    assert "Delta" in mine and "Echo" not in mine
    assert (await rogaland.get(f"/admin/contest/{YEAR}/ideas/{ids['Echo']}")).status_code == 404
    refused = await rogaland.post(
        f"/admin/contest/{YEAR}/ideas/{ids['Echo']}/nominate",
        data={"csrf": csrf_of(mine), "rationale": "Nei"},
    )
    assert refused.status_code == 404  # not a candidate: the coordinator cannot see it
    async with new_client(app) as public:
        late = await public.post(f"{links['Alfa']}/trekk")
        assert late.status_code == 409  # withdrawal ends with the deadline

    # 5. Nominations: each nominee's sender is told, in their language.
    for network, titles in ((rogaland, ("Alfa", "Bravo", "Charlie")),
                            (college, ("Foxtrot", "Golf", "Hotel"))):  # fmt: skip
        for title in titles:
            answer = await idea_action(network, ids[title], "nominate", rationale="Stor nytte.")
            assert answer.status_code == 303, answer.text
            [(subject, body)] = mails_to(f"{title.lower()}@kommune.no")
            assert "Nominated by" in body or "Nominert av" in body

    # 6. Finalists chosen: those not nominated hear it; then the poll fixes the finalists.
    await set_deadlines(org, submission_deadline=-0.02, nomination_deadline=-0.01)
    finalists = [ids[t] for t in ("Alfa", "Bravo", "Charlie", "Foxtrot", "Golf")]
    ranking = f"/admin/contest/{YEAR}/ranking"
    chosen = await post_form(
        org, ranking, f"/admin/contest/{YEAR}/finalists/select", idea=finalists
    )
    assert chosen.status_code == 303
    [(_, body)] = mails_to("delta@kommune.no")
    assert "Not nominated" in body
    assert mails_to("alfa@kommune.no") == [] and mails_to("echo@kommune.no") == []
    poll = await post_form(org, ranking, f"/admin/contest/{YEAR}/finalists/poll")
    assert poll.status_code == 303
    for title in ("Alfa", "Charlie", "Golf"):
        [(_, body)] = mails_to(f"{title.lower()}@kommune.no")
        assert "Finalist." in body
    for title in ("Bravo", "Foxtrot"):  # nynorsk senders
        [(_, body)] = mails_to(f"{title.lower()}@kommune.no")
        assert "Finalist." in body and "Hei Kari Nordmann," in body
    [(_, body)] = mails_to("hotel@kommune.no")
    assert "Not a finalist" in body
    assert [m["To"] for m in received if "kommune.no" in m["To"]] == []  # nothing else

    # 7. Each private page says the same, at the top, as a status.
    async with new_client(app) as public:
        for title, heading in (("Alfa", "Finalist"), ("Hotel", "Not a finalist"),
                               ("Delta", "Not nominated"), ("Echo", "Withdrawn")):  # fmt: skip
            page = (await public.get(f"{links[title]}?lang=en")).text
            assert re.search(rf'role="status"[^>]*>\s*<h2[^>]*>{heading}</h2>', page), title
    audit = (await org.get("/admin/audit.csv")).text
    assert audit.count(";idea.withdraw;") == 2 and ";idea.notice;" in audit
    for person in (org, rogaland, college):
        await person.aclose()


# Attachments: from the sender's private link to the coordinator and the jury -------------

PDF_FILE = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


async def test_an_ideas_files_go_from_its_sender_to_its_coordinator_and_the_jury(
    app: Starlette, organiser_client: httpx.AsyncClient
) -> None:
    from tests.conftest import services_of

    org = organiser_client
    await create_edition(org)
    rogaland = await accept_invitation(app, org, "digi@rogaland.no", "coordinator", "digi-rogaland")
    college = await accept_invitation(app, org, "kollegiet@ks.no", "coordinator", "kollegiet")
    jury = await accept_invitation(app, org, "jury@ks.no", "jury")
    link = await submit_idea(app, idea_form("m:1103", "Med vedlegg"))
    [idea] = await services_of(app).contest.ideas(YEAR)

    # 1. The sender attaches a sketch and a plan; a web page dressed as a PDF is refused.
    async with new_client(app) as public:
        for name, content in (("skisse.pdf", PDF_FILE), ("side.pdf", b"<html></html>")):
            sent = await public.post(f"{link}/vedlegg", files={"file": (name, content)})
            assert sent.status_code == (303 if name == "skisse.pdf" else 400)
        page = (await public.get(f"{link}?lang=en")).text
        assert "skisse.pdf" in page and "side.pdf" not in page
        own = await public.get(f"{link}/vedlegg/1")
        assert own.content == PDF_FILE and own.headers["content-security-policy"] == "sandbox"

    # 2. The network's coordinator sees it on the idea's page and downloads it; another
    # network's coordinator gets nothing, not even a hint that it exists.
    staff_path = f"/admin/contest/{YEAR}/ideas/{idea.id}/attachments/1"
    page = (await rogaland.get(f"/admin/contest/{YEAR}/ideas/{idea.id}")).text
    assert f'href="{staff_path}"' in page
    assert (await rogaland.get(staff_path)).content == PDF_FILE
    assert (await college.get(staff_path)).status_code == 404
    assert (await jury.get(staff_path)).status_code == 404  # not a nominee yet

    # 3. After the deadline the files stay, unchangeable; nominated, the jury reads them.
    await set_deadlines(org, submission_deadline=-0.01)
    async with new_client(app) as public:
        late = await public.post(f"{link}/vedlegg", files={"file": ("sen.pdf", PDF_FILE)})
        assert late.status_code == 409
        assert (await public.post(f"{link}/vedlegg/1/fjern")).status_code == 409
    nominated = await idea_action(rogaland, idea.id, "nominate", rationale="Nyttig.")
    assert nominated.status_code == 303
    await set_deadlines(org, submission_deadline=-0.02, nomination_deadline=-0.01)
    sheet = (await jury.get(f"/admin/contest/{YEAR}/jury/{idea.id}")).text
    assert f'href="{staff_path}"' in sheet
    assert (await jury.get(staff_path)).content == PDF_FILE

    # 4. On record: who attached what, never the bytes; the person's export names the file.
    audit = (await org.get("/admin/audit.csv")).text
    assert ";attachment.add;" in audit and "JVBERi" not in audit  # base64 of "%PDF"
    privacy = "/admin/privacy"
    export = await post_form(org, privacy, f"{privacy}/export", email="kari@kommune.no")
    document = export.json()
    assert [a["name"] for a in document["attachments"]] == ["skisse.pdf"]
    assert "JVBERi" not in export.text
    # Erasing the contact person's details leaves the idea's files, as the statement says.
    from live.contest.privacy import erase_person

    assert await erase_person(services_of(app).contest, "kari@kommune.no", actor="org") == [idea.id]
    assert (await jury.get(staff_path)).content == PDF_FILE
    for person in (rogaland, college, jury):
        await person.aclose()


# The walk of issue 11: one idea from its sender, with a file, to the finalist page; and a
# non-finalist's contact details erased when the retention period has passed ------------


async def test_an_idea_walked_from_submission_to_the_finalist_page_and_erasure(
    mailing_contest: tuple[Starlette, list[Any]],
) -> None:
    """What each person saw and received, written to test-artifacts/contest-walk.txt."""
    from live.contest.privacy import erase_expired
    from tests.conftest import services_of

    app, received = mailing_contest
    seen: list[str] = []

    def mails_to(address: str) -> list[str]:
        found = [m for m in received if m["To"] == address]
        for mail in found:
            received.remove(mail)
            seen.append(f"  mail to {address}: «{mail['Subject']}»")
        return [str(m["Subject"]) for m in found]

    def status_of(page: str) -> str:
        found = re.search(r'role="status"[^>]*>\s*<h2[^>]*>([^<]+)</h2>', page)
        return found.group(1) if found else "?"

    await make_user(app, "arrangor@ks.no", Role.ORGANISER)
    org = new_client(app)
    assert (await log_in(org, "arrangor@ks.no")).status_code == 303
    await create_edition(org)
    rogaland = await accept_invitation(app, org, "digi@rogaland.no", "coordinator", "digi-rogaland")
    jury = await accept_invitation(app, org, "jury@ks.no", "jury")
    received.clear()  # the invitations

    # 1. Two senders: Alfa (bokmål) attaches a PDF; Hotel (nynorsk) sends text only.
    links: dict[str, str] = {}
    senders = (("Alfa", "m:1103", "nb"), ("Bravo", "m:1106", "nb"), ("Hotel", "m:1101", "nn"))
    for title, owner, language in senders:
        async with new_client(app) as public:
            sent = await public.post(
                f"/ideer/{YEAR}/ny?lang={language}",
                data=idea_form(owner, title, contact_email=f"{title.lower()}@kommune.no"),
            )
            assert sent.status_code == 303, sent.text
            links[title] = sent.headers["location"].split("?")[0]
            page = (await public.get(links[title])).text
        seen.append(f"{title}'s sender ({language}) sees: «{status_of(page)}»")
        assert len(mails_to(f"{title.lower()}@kommune.no")) == 1  # the receipt and link
    async with new_client(app) as public:
        attached = await public.post(
            f"{links['Alfa']}/vedlegg", files={"file": ("plan.pdf", PDF_FILE)}
        )
        assert attached.status_code == 303
        page = (await public.get(links["Alfa"])).text
        assert "plan.pdf" in page
        seen.append("Alfa's sender attached plan.pdf; the private page lists it")
    ids = {idea.title: idea.id for idea in await services_of(app).contest.ideas(YEAR)}

    # 2. The deadline passes; the coordinator compares, nominates Alfa and Bravo (not Hotel)
    # and reads Alfa's file. This contest has two finalists.
    await set_deadlines(org, finalists=2, submission_deadline=-0.01)
    compare = await rogaland.get(
        f"/admin/contest/{YEAR}/compare", params=[("idea", ids["Alfa"]), ("idea", ids["Hotel"])]
    )
    assert compare.status_code == 200 and "Alfa" in compare.text and "Hotel" in compare.text
    seen.append("The Rogaland coordinator compares Alfa and Hotel side by side")
    file_path = f"/admin/contest/{YEAR}/ideas/{ids['Alfa']}/attachments/1"
    assert (await rogaland.get(file_path)).content == PDF_FILE
    for title in ("Alfa", "Bravo"):
        nominated = await idea_action(rogaland, ids[title], "nominate", rationale="Stor nytte.")
        assert nominated.status_code == 303
        assert len(mails_to(f"{title.lower()}@kommune.no")) == 1
    seen.append("The coordinator downloads plan.pdf and nominates Alfa and Bravo")

    # 3. The jury reads the file; the organiser chooses the finalists and makes the poll.
    await set_deadlines(org, finalists=2, submission_deadline=-0.02, nomination_deadline=-0.01)
    assert (await jury.get(file_path)).content == PDF_FILE
    seen.append("The jury member downloads plan.pdf from the sheet")
    ranking = f"/admin/contest/{YEAR}/ranking"
    chosen = await post_form(
        org, ranking, f"/admin/contest/{YEAR}/finalists/select", idea=[ids["Alfa"], ids["Bravo"]]
    )
    assert chosen.status_code == 303
    assert len(mails_to("hotel@kommune.no")) == 1  # not nominated
    made = await post_form(org, ranking, f"/admin/contest/{YEAR}/finalists/poll")
    assert made.status_code == 303
    assert len(mails_to("alfa@kommune.no")) == len(mails_to("bravo@kommune.no")) == 1
    async with new_client(app) as public:
        for title in ("Alfa", "Hotel"):
            page = (await public.get(links[title])).text
            seen.append(f"{title}'s private page now says: «{status_of(page)}»")

    # 4. The finalist page is published; the finale's ballot links to it.
    edition = f"/admin/contest/{YEAR}"
    page = (await org.get(edition)).text
    published = await org.post(
        f"{edition}/finalist-page", data={"csrf": csrf_of(page), "action": "publish"}
    )
    assert published.status_code == 303
    poll_id = int(made.headers["location"].rsplit("/", 1)[1])
    poll = await services_of(app).store.get_poll(poll_id)
    async with new_client(app) as public:
        page = await public.get(f"/ideer/{YEAR}/finalister")
        assert page.status_code == 200 and "Alfa" in page.text and "Hotel" not in page.text
        ballot = (await public.get(f"/p/{poll.code}")).text
        assert f"/ideer/{YEAR}/finalister" in ballot
    seen.append(f"The public finalist page lists Alfa; the ballot /p/{poll.code} links to it")

    # 5. Six months after the finale: Hotel's contact details go, Alfa's stay.
    contest = services_of(app).contest
    contest.clock = lambda: datetime.now(OSLO) + timedelta(days=4 + 31 * 6 + 1)
    assert await erase_expired(contest) == [ids["Hotel"]]
    assert await erase_expired(contest) == []  # once
    hotel = await contest.idea(ids["Hotel"])
    alfa = await contest.idea(ids["Alfa"])
    assert hotel.answers["contact_email"] == "" and hotel.answers["contact_name"] == ""
    assert alfa.answers["contact_email"] == "alfa@kommune.no"
    audit = (await org.get("/admin/audit.csv")).text
    assert ";idea.erase_contact;" in audit
    assert "hotel@kommune.no" not in audit and "alfa@kommune.no" not in audit
    seen.append("Retention: Hotel's contact name, e-mail and phone erased; the log records it "
                "without the values; Alfa (a finalist) keeps them")  # fmt: skip
    assert [m["To"] for m in received if "kommune.no" in m["To"]] == []  # nothing else
    _write_walk(seen)
    for person in (org, rogaland, jury):
        await person.aclose()


def _write_walk(lines: list[str]) -> None:
    artifacts = Path(__file__).resolve().parent.parent / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / "contest-walk.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
