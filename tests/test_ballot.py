"""The ballot as voters meet it over HTTP: tokens, forms, confirmations and errors."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from live.store.models import FinalistDraft, Poll, PollDraft, PollSettings, TieRule
from live.tally import Method
from live.tokens import VoterTokens
from tests.conftest import BASE_URL, open_poll, path_of, services_of

pytestmark = pytest.mark.asyncio

JSON = {"Accept": "application/json"}


def voter_client(client: httpx.AsyncClient) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=client._transport, base_url=BASE_URL)


async def results(
    client: httpx.AsyncClient, headers: dict[str, str], poll: dict[str, Any]
) -> dict[str, Any]:
    answer = await client.get(f"/api/polls/{poll['id']}/results", headers=headers)
    body: dict[str, Any] = answer.json()
    return body


async def test_the_first_visit_sets_a_safe_voter_cookie(
    client: httpx.AsyncClient, organiser: dict[str, str]
) -> None:
    poll = await open_poll(client, organiser)
    page = await client.get(path_of(poll["ballot_url"]))
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    cookie = page.headers["set-cookie"]
    for flag in ("live_voter=", "HttpOnly", "SameSite=lax", f"Path=/p/{poll['code']}"):
        assert flag.lower() in cookie.lower()
    assert "secure" not in cookie.lower()  # plain http here; https adds Secure
    second = await client.get(path_of(poll["ballot_url"]))
    assert "set-cookie" not in second.headers  # the token is kept, not replaced
    assert "Content-Security-Policy" in page.headers
    assert "'unsafe-inline'" not in page.headers["Content-Security-Policy"]


async def test_the_cookie_is_secure_behind_https(make_settings: Any) -> None:
    from live.server import create_app

    app = create_app(make_settings(LIVE_PUBLIC_URL="https://live.example.no"))
    async with app.router.lifespan_context(app):
        store = services_of(app).store
        from live.store.models import FinalistDraft, PollDraft
        from live.tally import Method

        poll = await store.create_poll(
            PollDraft("T", Method.SINGLE, 1, (FinalistDraft("A"), FinalistDraft("B"))),
            actor="org@example.no",
        )
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=BASE_URL
        ) as http:
            page = await http.get(f"/p/{poll.code}")
    assert "secure" in page.headers["set-cookie"].lower()


async def test_voting_without_javascript_shows_what_was_recorded(
    client: httpx.AsyncClient, organiser: dict[str, str]
) -> None:
    poll = await open_poll(client, organiser)
    chosen = poll["finalists"][2]
    async with voter_client(client) as voter:
        await voter.get(path_of(poll["ballot_url"]))
        answer = await voter.post(path_of(poll["ballot_url"]), data={"choice": str(chosen["id"])})
        assert answer.status_code == 303
        assert answer.headers["location"] == f"/p/{poll['code']}/kvittering"
        receipt = await voter.get(answer.headers["location"])
        assert chosen["name"] in receipt.text and "Stemmen din er registrert" in receipt.text
        again = await voter.get(path_of(poll["ballot_url"]))
        assert "checked" in again.text and chosen["name"] in again.text
    assert (await results(client, organiser, poll))["ballots"] == 1


async def test_a_voter_who_changes_their_mind_is_counted_once(
    client: httpx.AsyncClient, organiser: dict[str, str]
) -> None:
    poll = await open_poll(client, organiser)
    first, second = poll["finalists"][0]["id"], poll["finalists"][1]["id"]
    async with voter_client(client) as voter:
        await voter.get(path_of(poll["ballot_url"]))
        one = await voter.post(path_of(poll["ballot_url"]), data={"choice": first}, headers=JSON)
        two = await voter.post(path_of(poll["ballot_url"]), data={"choice": second}, headers=JSON)
    assert one.json()["replaced"] is False and two.json()["replaced"] is True
    body = await results(client, organiser, poll)
    scores = {row["finalist_id"]: row["score"] for row in body["tally"]}
    assert body["ballots"] == 1 and scores[first] == 0 and scores[second] == 1


async def test_fifty_concurrent_submissions_with_one_token(
    client: httpx.AsyncClient, organiser: dict[str, str]
) -> None:
    poll = await open_poll(client, organiser)
    ids = [f["id"] for f in poll["finalists"]]
    async with voter_client(client) as voter:
        await voter.get(path_of(poll["ballot_url"]))
        answers = await asyncio.gather(
            *(
                voter.post(path_of(poll["ballot_url"]), data={"choice": ids[n % 5]}, headers=JSON)
                for n in range(50)
            )
        )
    assert all(a.status_code == 200 for a in answers)
    assert sum(1 for a in answers if not a.json()["replaced"]) == 1
    body = await results(client, organiser, poll)
    assert body["ballots"] == 1 and sum(row["score"] for row in body["tally"]) == 1


async def forged_post(
    client: httpx.AsyncClient, poll: dict[str, Any], cookie: str, accept: str = "application/json"
) -> httpx.Response:
    return await client.post(
        path_of(poll["ballot_url"]),
        data={"choice": poll["finalists"][0]["id"]},
        headers={"Accept": accept, "Cookie": f"live_voter={cookie}"},
    )


async def test_bad_tokens_get_403_and_nothing_is_counted(
    client: httpx.AsyncClient, organiser: dict[str, str], app: Starlette
) -> None:
    poll = await open_poll(client, organiser)
    other = await open_poll(client, organiser)
    real = services_of(app).voter_tokens
    _, genuine = real.issue(poll["id"])
    _, for_other_poll = real.issue(other["id"])
    _, other_key = VoterTokens("another key entirely, 32+ chars long").issue(poll["id"])
    tampered = genuine[:-3] + ("xyz" if not genuine.endswith("xyz") else "abc")
    for cookie in (for_other_poll, other_key, tampered, "nonsense"):
        answer = await forged_post(client, poll, cookie)
        assert answer.status_code == 403, cookie
        assert answer.json()["error"]["code"] == "forbidden"
    missing = await client.post(path_of(poll["ballot_url"]), data={"choice": "1"}, headers=JSON)
    assert missing.status_code == 403
    assert (await results(client, organiser, poll))["ballots"] == 0
    assert (await forged_post(client, poll, genuine)).status_code == 200
    assert (await results(client, organiser, poll))["ballots"] == 1


async def test_a_bad_token_gets_a_norwegian_page_for_people(
    client: httpx.AsyncClient, organiser: dict[str, str]
) -> None:
    poll = await open_poll(client, organiser)
    answer = await forged_post(client, poll, "nonsense", accept="text/html")
    assert answer.status_code == 403 and "text/html" in answer.headers["content-type"]
    assert 'lang="nb"' in answer.text and "stemmeseddel" in answer.text.lower()


@pytest.mark.parametrize(
    ("choices", "status"),
    [
        ([], 400),
        (["abc"], 400),
        (["999999"], 400),
        (["FIRST", "SECOND"], 400),
    ],
)
async def test_bad_choices_get_a_clear_400(
    client: httpx.AsyncClient, organiser: dict[str, str], choices: list[str], status: int
) -> None:
    poll = await open_poll(client, organiser)
    ids = [str(f["id"]) for f in poll["finalists"]]
    choices = [ids[0] if c == "FIRST" else ids[1] if c == "SECOND" else c for c in choices]
    async with voter_client(client) as voter:
        await voter.get(path_of(poll["ballot_url"]))
        as_json = await voter.post(
            path_of(poll["ballot_url"]), data={"choice": choices}, headers=JSON
        )
        as_page = await voter.post(path_of(poll["ballot_url"]), data={"choice": choices})
    assert as_json.status_code == status and as_json.json()["error"]["field"] == "choice"
    assert as_page.status_code == status and 'role="alert"' in as_page.text
    assert (await results(client, organiser, poll))["ballots"] == 0


async def test_ranked_ballots_refuse_duplicates(
    client: httpx.AsyncClient, organiser: dict[str, str]
) -> None:
    poll = await open_poll(client, organiser, method="ranked")
    a = str(poll["finalists"][0]["id"])
    async with voter_client(client) as voter:
        await voter.get(path_of(poll["ballot_url"]))
        answer = await voter.post(
            path_of(poll["ballot_url"]), data={"choice": [a, a]}, headers=JSON
        )
        page = await voter.get(path_of(poll["ballot_url"]))
    assert answer.status_code == 400
    assert page.text.count("<select") == 3


async def test_a_stale_retry_changes_nothing(
    client: httpx.AsyncClient, organiser: dict[str, str]
) -> None:
    poll = await open_poll(client, organiser)
    a, b = poll["finalists"][0]["id"], poll["finalists"][1]["id"]
    async with voter_client(client) as voter:
        await voter.get(path_of(poll["ballot_url"]))
        url = path_of(poll["ballot_url"])
        await voter.post(url, data={"choice": a, "sent_at": "1000"}, headers=JSON)
        await voter.post(url, data={"choice": b, "sent_at": "2000"}, headers=JSON)
        late = await voter.post(url, data={"choice": a, "sent_at": "1000"}, headers=JSON)
        bad = await voter.post(url, data={"choice": a, "sent_at": "soon"}, headers=JSON)
    assert late.status_code == 200 and late.json()["stale"] is True
    assert late.json()["choices"] == [b]
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "sent_at"


def ballot_is_locked(html: str) -> bool:
    """The ballot is shown (a phone can follow the show) but nothing in it can be used."""
    return (
        '<form id="ballot"' in html
        and '<fieldset id="choices" disabled>' in html
        and re.search(r'<button type="submit" disabled( hidden)?>', html) is not None
    )


async def test_draft_and_closed_polls_show_their_state(
    client: httpx.AsyncClient, organiser: dict[str, str]
) -> None:
    draft = (
        await client.post(
            "/api/polls",
            headers=organiser,
            json={"title": "D", "finalists": [{"name": "A"}, {"name": "B"}]},
        )
    ).json()
    page = await client.get(path_of(draft["ballot_url"]))
    assert ballot_is_locked(page.text) and "ikke åpnet" in page.text
    async with voter_client(client) as voter:
        await voter.get(path_of(draft["ballot_url"]))
        refused = await voter.post(path_of(draft["ballot_url"]), data={"choice": "1"}, headers=JSON)
    assert refused.status_code == 409
    await client.post(f"/api/polls/{draft['id']}/open", headers=organiser)
    await client.post(f"/api/polls/{draft['id']}/close", headers=organiser)
    closed = await client.get(path_of(draft["ballot_url"]))
    assert ballot_is_locked(closed.text) and "stengt" in closed.text


async def test_join_by_code_forgives_case_and_spaces(
    client: httpx.AsyncClient, organiser: dict[str, str]
) -> None:
    poll = await open_poll(client, organiser)
    typed = " ".join(poll["code"].lower())
    answer = await client.get("/join", params={"code": typed})
    assert answer.status_code == 303 and answer.headers["location"] == f"/p/{poll['code']}"
    lower = await client.get(f"/p/{poll['code'].lower()}")
    assert lower.status_code == 301 and lower.headers["location"] == f"/p/{poll['code']}"
    unknown = await client.get("/join", params={"code": "zzzzzz"})
    assert unknown.status_code == 404 and "ZZZZZZ" in unknown.text
    empty = await client.get("/join", params={"code": ""})
    assert empty.status_code == 400 and 'aria-invalid="true"' in empty.text


async def test_unknown_pages_are_a_translated_404(client: httpx.AsyncClient) -> None:
    nb = await client.get("/p/NOPE42")
    en = await client.get("/p/NOPE42?lang=en")
    assert nb.status_code == en.status_code == 404
    assert "NOPE42" in nb.text and "There is no poll with the code NOPE42." in en.text
    assert (await client.get("/nowhere")).status_code == 404


async def test_the_language_switch_is_remembered(client: httpx.AsyncClient) -> None:
    answer = await client.get("/lang", params={"lang": "nn", "next": "/"})
    assert answer.status_code == 303 and "live_lang=nn" in answer.headers["set-cookie"]
    home = await client.get("/")
    assert 'lang="nn"' in home.text
    evil = await client.get("/lang", params={"lang": "en", "next": "//evil.example"})
    assert evil.headers["location"] == "/"


async def test_a_phone_that_drops_mid_vote_is_not_a_server_error(
    client: httpx.AsyncClient,
    organiser: dict[str, str],
    app: Starlette,
    caplog: pytest.LogCaptureFixture,
) -> None:
    poll = await open_poll(client, organiser)
    _, cookie = services_of(app).voter_tokens.issue(poll["id"])
    messages = [
        {"type": "http.request", "body": b"choice=", "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path_of(poll["ballot_url"]),
        "raw_path": b"",
        "query_string": b"",
        "root_path": "",
        "client": ("127.0.0.1", 1),
        "server": None,
        "headers": [
            (b"host", b"testserver"),
            (b"content-length", b"100"),
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"cookie", f"live_voter={cookie}".encode()),
        ],
    }
    await app(scope, receive, send)  # must not raise
    assert sent[0]["status"] == 400
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]
    assert (await results(client, organiser, poll))["ballots"] == 0


async def test_the_shared_ballot_page_follows_the_poll_and_the_language(
    client: httpx.AsyncClient, organiser: dict[str, str]
) -> None:
    poll = await open_poll(client, organiser)
    url = path_of(poll["ballot_url"])
    first = await client.get(url)
    assert 'id="ballot"' in first.text and "Stem</button>" in first.text
    assert not ballot_is_locked(first.text) and " disabled" not in first.text
    english = await client.get(url + "?lang=en", headers={"Cookie": ""})
    assert "Vote</button>" in english.text
    await client.post(f"/api/polls/{poll['id']}/close", headers=organiser)
    async with voter_client(client) as newcomer:  # a phone that has not voted
        closed = await newcomer.get(url)
    assert ballot_is_locked(closed.text) and "stengt" in closed.text


async def test_a_vote_after_the_closing_time_gets_a_clear_409(
    client: httpx.AsyncClient, organiser: dict[str, str], app: Starlette
) -> None:
    poll = await open_poll(client, organiser)
    choice = str(poll["finalists"][0]["id"])
    async with voter_client(client) as phone, voter_client(client) as other:
        await phone.get(path_of(poll["ballot_url"]))
        await other.get(path_of(poll["ballot_url"]))
        store = services_of(app).store
        await store.set_countdown(poll["id"], 0, actor="org@example.no")  # the time is up now
        answer = await phone.post(
            path_of(poll["ballot_url"]), data={"choice": choice}, headers=JSON
        )
        assert answer.status_code == 409 and "stengt" in answer.json()["error"]["message"]
        page = await other.post(path_of(poll["ballot_url"]), data={"choice": choice})
        assert page.status_code == 409 and 'role="alert"' in page.text and "stengt" in page.text
    assert (await results(client, organiser, poll))["ballots"] == 0


async def test_a_reload_shows_the_places_revealed_so_far(
    client: httpx.AsyncClient, organiser: dict[str, str]
) -> None:
    poll = await open_poll(client, organiser)
    ids = [f["id"] for f in poll["finalists"]]
    for choice in [ids[0]] * 3 + [ids[1]] * 2 + [ids[2]]:
        async with voter_client(client) as phone:
            await phone.get(path_of(poll["ballot_url"]))
            await phone.post(path_of(poll["ballot_url"]), data={"choice": str(choice)})
    await client.post(f"/api/polls/{poll['id']}/close", headers=organiser)
    page = await client.get(path_of(poll["ballot_url"]))
    assert "Charlie" not in page.text.split('id="podium"')[1].split("</ul>")[0]
    await client.post(f"/api/polls/{poll['id']}/reveal", json={"place": 3}, headers=organiser)
    revealed = await client.get(path_of(poll["ballot_url"]))
    podium = revealed.text.split('id="podium"')[1].split("</ul>")[0]
    assert "Charlie" in podium and "Alfa" not in podium and "Bravo" not in podium


async def approval_poll(app: Starlette, k: int, tie_rule: TieRule = TieRule.LOTS) -> Poll:
    draft = PollDraft(
        "Finalen",
        Method.APPROVAL,
        1,
        tuple(FinalistDraft(name) for name in ("Alfa", "Bravo", "Charlie", "Delta")),
        PollSettings(max_choices=k, tie_rule=tie_rule),
    )
    return await services_of(app).store.create_poll(draft, actor="org@example.no")


async def test_an_approval_ballot_takes_up_to_k_ticks(
    client: httpx.AsyncClient, app: Starlette
) -> None:
    poll = await approval_poll(app, 2)
    poll = await services_of(app).store.open_poll(poll.id, actor="org@example.no")
    ids = [f.id for f in poll.finalists]
    async with voter_client(client) as voter:
        voter.cookies.set("live_lang", "en")
        page = await voter.get(f"/p/{poll.code}")
        assert page.text.count('type="checkbox" name="choice"') == 4
        assert "Choose up to 2" in page.text and "0 of 2 chosen" in page.text
        too_many = await voter.post(
            f"/p/{poll.code}", data={"choice": [str(i) for i in ids[:3]]}, headers=JSON
        )
        assert too_many.status_code == 400 and "at most 2" in too_many.json()["error"]["message"]
        two = [str(ids[3]), str(ids[0])]
        answer = await voter.post(f"/p/{poll.code}", data={"choice": two}, headers=JSON)
        assert answer.status_code == 200 and answer.json()["choices"] == [ids[0], ids[3]]
        assert answer.json()["names"] == ["Alfa", "Delta"]
        again = await voter.get(f"/p/{poll.code}")
        assert again.text.count(" checked>") == 2 and "2 of 2 chosen" in again.text
        assert '<ul class="recorded"><li>Alfa</li><li>Delta</li></ul>' in again.text


@pytest.mark.parametrize(
    ("method", "k", "tie_rule", "line"),
    [
        (
            Method.SINGLE,
            None,
            TieRule.LOTS,
            "Choose one finalist. If finalists tie for a winning"
            " place, the place is decided by drawing lots.",
        ),
        (
            Method.RANKED,
            None,
            TieRule.DECISION,
            "Rank up to three finalists. If finalists tie for"
            " a winning place, the organisers decide the place and record why.",
        ),
        (
            Method.APPROVAL,
            3,
            TieRule.LOTS,
            "Tick the finalists you support, at most 3; each tick"
            " gives one point. If finalists tie",
        ),
    ],
)
async def test_the_ballot_states_the_method_and_the_tie_rule_before_voting_opens(
    client: httpx.AsyncClient,
    app: Starlette,
    method: Method,
    k: int | None,
    tie_rule: TieRule,
    line: str,
) -> None:
    draft = PollDraft(
        "Finalen",
        method,
        1,
        tuple(FinalistDraft(name) for name in ("Alfa", "Bravo", "Charlie", "Delta")),
        PollSettings(max_choices=k, tie_rule=tie_rule),
    )
    poll = await services_of(app).store.create_poll(draft, actor="org@example.no")
    page = await client.get(f"/p/{poll.code}", params={"lang": "en"})
    rules = re.search(r'<p id="rules" class="rules">(.*?)</p>', page.text, re.S)
    assert rules and line in " ".join(rules.group(1).split())
