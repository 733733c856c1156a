"""The JSON API as organisers' scripts use it, and its errors."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from live.store.models import Role
from tests.conftest import FINALISTS, api_headers, create_poll, open_poll, path_of

pytestmark = pytest.mark.asyncio


async def vote(client: httpx.AsyncClient, ballot_url: str, *choices: int) -> httpx.Response:
    jar_client = httpx.AsyncClient(transport=client._transport, base_url=client.base_url)
    async with jar_client:
        await jar_client.get(path_of(ballot_url))
        return await jar_client.post(
            path_of(ballot_url),
            data={"choice": [str(c) for c in choices]},
            headers={"Accept": "application/json"},
        )


async def open_poll_with_a_clear_podium(
    client: httpx.AsyncClient, organiser: dict[str, str]
) -> dict[str, Any]:
    """An open poll with six votes: 3 for the first finalist, 2 for the second, 1 for the
    third, so every winning place is decided."""
    poll = await open_poll(client, organiser)
    ids = [f["id"] for f in poll["finalists"]]
    for choice in [ids[0]] * 3 + [ids[1]] * 2 + [ids[2]]:
        assert (await vote(client, poll["ballot_url"], choice)).status_code == 200
    return poll


async def test_create_poll_answers_what_scripts_need(
    client: httpx.AsyncClient, organiser: dict[str, str]
) -> None:
    poll = await create_poll(client, organiser)
    assert poll["status"] == "draft" and poll["method"] == "single" and poll["winners"] == 3
    assert [f["name"] for f in poll["finalists"]] == [f["name"] for f in FINALISTS]
    assert all(isinstance(f["id"], int) for f in poll["finalists"])
    assert poll["ballot_url"] == f"http://testserver/p/{poll['code']}"
    assert poll["stage_url"] == f"http://testserver/s/{poll['code']}"
    assert poll["stream_url"] == f"ws://testserver/p/{poll['code']}/stream"


async def test_the_whole_vote_through_the_api(
    client: httpx.AsyncClient, organiser: dict[str, str]
) -> None:
    poll = await open_poll(client, organiser)
    ids = [f["id"] for f in poll["finalists"]]
    for choice in [ids[1], ids[1], ids[1], ids[0], ids[0], ids[2]]:
        assert (await vote(client, poll["ballot_url"], choice)).status_code == 200
    closed = await client.post(f"/api/polls/{poll['id']}/close", headers=organiser)
    assert closed.json()["status"] == "closed"
    results = (await client.get(f"/api/polls/{poll['id']}/results", headers=organiser)).json()
    assert results["status"] == "closed" and results["ballots"] == 6
    assert [(r["finalist_id"], r["score"]) for r in results["tally"][:3]] == [
        (ids[1], 3),
        (ids[0], 2),
        (ids[2], 1),
    ]
    assert results["winners"] == [ids[1], ids[0], ids[2]]
    again = (await client.get(f"/api/polls/{poll['id']}/results", headers=organiser)).json()
    assert again == results
    late = await vote(client, poll["ballot_url"], ids[3])
    assert late.status_code == 409
    after = (await client.get(f"/api/polls/{poll['id']}/results", headers=organiser)).json()
    assert after == results


async def test_ranked_polls_count_borda_points(
    client: httpx.AsyncClient, organiser: dict[str, str]
) -> None:
    poll = await open_poll(client, organiser, method="ranked")
    a, b, c, d, _ = [f["id"] for f in poll["finalists"]]
    await vote(client, poll["ballot_url"], a, b, c)
    await vote(client, poll["ballot_url"], b, a)
    await vote(client, poll["ballot_url"], d)
    results = (await client.get(f"/api/polls/{poll['id']}/results", headers=organiser)).json()
    scores = {r["finalist_id"]: r["score"] for r in results["tally"]}
    assert scores[a] == 5 and scores[b] == 5 and scores[d] == 3 and scores[c] == 1
    assert results["winners"] == []  # a and b tie for first: nothing is decided silently
    assert results["open_ties"] == [{"finalist_ids": [a, b], "place": 1, "score": 5}]


async def test_a_tie_is_resolved_by_lots_with_a_recorded_seed(
    client: httpx.AsyncClient, organiser: dict[str, str]
) -> None:
    poll = await open_poll(client, organiser)
    ids = [f["id"] for f in poll["finalists"]]
    for choice in [ids[0], ids[1], ids[2], ids[2]]:
        await vote(client, poll["ballot_url"], choice)
    tie_url = f"/api/polls/{poll['id']}/ties"
    early = await client.post(tie_url, json={"rule": "lots", "order": ids[:2]}, headers=organiser)
    assert early.status_code == 409
    await client.post(f"/api/polls/{poll['id']}/close", headers=organiser)
    results = (await client.get(f"/api/polls/{poll['id']}/results", headers=organiser)).json()
    assert results["winners"] == [ids[2]]
    wrong = await client.post(
        tie_url, json={"rule": "lots", "order": [ids[0], ids[3]]}, headers=organiser
    )
    assert wrong.status_code == 400 and wrong.json()["error"]["field"] == "order"
    # The poll announced lots (the default): a decision is refused, naming that rule.
    decision = await client.post(
        tie_url, json={"rule": "decision", "order": ids[:2], "note": "Jury"}, headers=organiser
    )
    assert decision.status_code == 409 and decision.json()["error"]["field"] == "rule"
    assert "lots" in decision.json()["error"]["message"] or "lodd" in decision.text
    resolved = await client.post(
        tie_url, json={"rule": "lots", "order": ids[:2]}, headers=organiser
    )
    assert resolved.status_code == 201
    body = resolved.json()
    record = body["resolutions"][0]
    assert record["rule"] == "lots" and record["seed"] and record["decided_by"] == "org@example.no"
    assert body["winners"][0] == ids[2] and set(body["winners"][1:]) == set(ids[:2])
    assert body["winners"][1:] == record["order"]
    twice = await client.post(tie_url, json={"rule": "lots", "order": ids[:2]}, headers=organiser)
    assert twice.status_code == 409


async def test_a_tie_in_a_decision_poll_is_settled_by_a_recorded_note(
    client: httpx.AsyncClient, organiser: dict[str, str]
) -> None:
    poll = await open_poll(client, organiser, tie_rule="decision")
    ids = [f["id"] for f in poll["finalists"]]
    for choice in [ids[0], ids[1], ids[2], ids[2]]:
        await vote(client, poll["ballot_url"], choice)
    await client.post(f"/api/polls/{poll['id']}/close", headers=organiser)
    tie_url = f"/api/polls/{poll['id']}/ties"
    lots = await client.post(tie_url, json={"rule": "lots", "order": ids[:2]}, headers=organiser)
    assert lots.status_code == 409 and lots.json()["error"]["field"] == "rule"
    no_note = await client.post(
        tie_url, json={"rule": "decision", "order": ids[:2]}, headers=organiser
    )
    assert no_note.status_code == 400 and no_note.json()["error"]["field"] == "note"
    decided = await client.post(  # no rule: the announced one
        tie_url,
        json={"order": [ids[1], ids[0]], "note": "Jury chair, by the rules"},
        headers=organiser,
    )
    assert decided.status_code == 201, decided.text
    record = decided.json()["resolutions"][0]
    assert record["rule"] == "decision" and record["seed"] is None
    assert decided.json()["winners"] == [ids[2], ids[1], ids[0]]


async def test_reveal_goes_third_second_first_and_waits_for_ties(
    client: httpx.AsyncClient, organiser: dict[str, str]
) -> None:
    poll = await open_poll_with_a_clear_podium(client, organiser)
    reveal_url = f"/api/polls/{poll['id']}/reveal"
    assert (await client.post(reveal_url, headers=organiser)).status_code == 409
    await client.post(f"/api/polls/{poll['id']}/close", headers=organiser)
    for expected in (1, 2, 3):
        answer = await client.post(reveal_url, headers=organiser)
        assert answer.status_code == 200 and answer.json()["revealed"] == expected
    assert (await client.post(reveal_url, headers=organiser)).status_code == 409


async def test_reveal_is_blocked_by_an_open_tie(
    client: httpx.AsyncClient, organiser: dict[str, str]
) -> None:
    poll = await open_poll(client, organiser)
    await client.post(f"/api/polls/{poll['id']}/close", headers=organiser)
    answer = await client.post(f"/api/polls/{poll['id']}/reveal", headers=organiser)
    assert answer.status_code == 409 and "uavgjort" in answer.json()["error"]["message"].lower()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"finalists": FINALISTS}, "title"),
        ({"title": "T", "finalists": [{"name": "Only one"}]}, "finalists"),
        ({"title": "T", "finalists": [{"name": f"F{n}"} for n in range(11)]}, "finalists"),
        ({"title": "T", "finalists": [{"name": "A"}, {"name": ""}]}, "finalists[2].name"),
        ({"title": "T", "finalists": [{"name": "A"}, {"name": "a"}]}, "finalists"),
        ({"title": "T", "finalists": FINALISTS, "method": "borda"}, "method"),
        ({"title": "T", "finalists": FINALISTS, "method": "approval"}, "max_choices"),
        (
            {"title": "T", "finalists": FINALISTS, "method": "approval", "max_choices": 5},
            "max_choices",
        ),
        ({"title": "T", "finalists": FINALISTS, "max_choices": 2}, "max_choices"),
        ({"title": "T", "finalists": FINALISTS, "eligibility": "everyone"}, "eligibility"),
        ({"title": "T", "finalists": FINALISTS, "tie_rule": "coin"}, "tie_rule"),
        ({"title": "T", "finalists": FINALISTS, "expected_voters": 0}, "expected_voters"),
        ({"title": "T", "finalists": FINALISTS, "winners": 6}, "winners"),
        ({"title": "T", "finalists": FINALISTS, "winners": "many"}, "winners"),
        ({"title": "x" * 201, "finalists": FINALISTS}, "title"),
        ({"title": 5, "finalists": FINALISTS}, "title"),
        ({"title": "T", "finalists": "A,B"}, "finalists"),
    ],
)
async def test_bad_polls_get_400_naming_the_field(
    client: httpx.AsyncClient, organiser: dict[str, str], body: dict[str, object], field: str
) -> None:
    answer = await client.post("/api/polls", json=body, headers=organiser)
    assert answer.status_code == 400
    assert answer.json()["error"]["field"] == field
    assert answer.json()["error"]["message"]


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b"\xff\xfe"])
async def test_a_body_that_is_not_a_json_object_is_a_400(
    client: httpx.AsyncClient, organiser: dict[str, str], raw: bytes
) -> None:
    answer = await client.post("/api/polls", content=raw, headers=organiser)
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "bad_request"


async def test_a_huge_body_is_a_413(client: httpx.AsyncClient, organiser: dict[str, str]) -> None:
    answer = await client.post("/api/polls", content=b"x" * 300_000, headers=organiser)
    assert answer.status_code == 413


async def test_credentials_are_checked(client: httpx.AsyncClient, app: Starlette) -> None:
    assert (await client.get("/api/polls")).status_code == 401
    bad = await client.get("/api/polls", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401 and bad.headers["www-authenticate"].startswith("Bearer")
    host = await api_headers(app, "host@example.no", Role.HOST)
    assert (await client.get("/api/polls", headers=host)).status_code == 200
    forbidden = await client.post(
        "/api/polls", json={"title": "T", "finalists": FINALISTS}, headers=host
    )
    assert forbidden.status_code == 403


async def test_unknown_polls_and_routes_are_404(
    client: httpx.AsyncClient, organiser: dict[str, str]
) -> None:
    for path in ("/api/polls/999", "/api/polls/999/results", "/api/polls/99999999999999999999"):
        answer = await client.get(path, headers=organiser)
        assert answer.status_code == 404, path
        assert answer.json()["error"]["message"]
    assert (await client.delete("/api/polls", headers=organiser)).status_code == 405


async def test_errors_speak_the_users_language(
    client: httpx.AsyncClient, organiser: dict[str, str]
) -> None:
    nb = await client.get("/api/polls/999", headers=organiser)
    en = await client.get("/api/polls/999?lang=en", headers=organiser)
    nn = await client.get("/api/polls/999", headers={**organiser, "Cookie": "live_lang=nn"})
    messages = {
        nb.json()["error"]["message"],
        en.json()["error"]["message"],
        nn.json()["error"]["message"],
    }
    assert len(messages) == 3
    assert en.json()["error"]["message"] == "There is no poll with id 999."


async def test_every_api_route_is_in_the_openapi_document(
    client: httpx.AsyncClient, app: Starlette
) -> None:
    document = (await client.get("/api/openapi.json")).json()
    assert document["openapi"].startswith("3.")
    documented = {
        (path, method)
        for path, item in document["paths"].items()
        for method in item
        if method != "parameters"
    }
    served = set()
    for route in app.routes:
        if isinstance(route, Route) and route.path.startswith("/api/") and route.name != "openapi":
            path = route.path.replace(":id", "")
            for method in route.methods or ():
                if method != "HEAD":
                    served.add((path, method.lower()))
    assert served == documented


@pytest.mark.parametrize("role", [Role.JURY, Role.COORDINATOR])
async def test_contest_roles_have_no_say_over_polls(
    app: Starlette, client: httpx.AsyncClient, organiser: dict[str, str], role: Role
) -> None:
    poll = await create_poll(client, organiser)
    headers = await api_headers(app, f"{role.value}@example.no", role)
    assert (await client.get("/api/polls", headers=headers)).status_code == 403
    opened = await client.post(f"/api/polls/{poll['id']}/open", headers=headers)
    assert opened.status_code == 403 and opened.json()["error"]["code"] == "forbidden"
