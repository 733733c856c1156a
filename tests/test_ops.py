"""Operations: /healthz, /readyz, /metrics, the audit export off the event loop, and logs
that hold no secret (in-process, then a real `live serve`)."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from starlette.applications import Starlette
from websockets.asyncio.client import connect

from live import logs
from live.config import Settings, SettingsError, load_settings
from live.contest import exports
from live.metrics import REGISTRY
from live.server import create_app
from live.store.models import Role
from tests.conftest import BASE_URL, api_headers, log_in, make_user, open_poll, services_of
from tests.support.process import ServerProcess, api, cookieless_client, new_voter, vote
from tests.support.redis_server import RedisServer


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest_asyncio.fixture
async def started(make_settings: Callable[..., Settings]) -> AsyncIterator[Starlette]:
    app = create_app(make_settings())
    async with app.router.lifespan_context(app):
        yield app


def client_for(app: Starlette, address: str = "127.0.0.1", **headers: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url=BASE_URL, headers=headers)


async def until_ready(http: httpx.AsyncClient) -> None:
    async with asyncio.timeout(30):
        while (await http.get("/readyz")).status_code != 200:  # noqa: ASYNC110 - polls HTTP
            await asyncio.sleep(0.2)


# Probes ---------------------------------------------------------------------------
@pytest.mark.asyncio
async def test_probes_answer_ok_on_every_backend(
    make_settings: Callable[..., Settings], store_url: str
) -> None:
    app = create_app(make_settings(LIVE_STORE_URL=store_url))
    async with app.router.lifespan_context(app), client_for(app) as http:
        for path, body in (("/healthz", "ok\n"), ("/readyz", "ready\n")):
            answer = await http.get(path)
            assert (answer.status_code, answer.text) == (200, body)
            assert answer.headers["cache-control"] == "no-store"


@pytest.mark.asyncio
async def test_readyz_is_503_while_redis_is_down_and_healthz_stays_ok(
    make_settings: Callable[..., Settings], own_redis: RedisServer
) -> None:
    app = create_app(make_settings(LIVE_STORE_URL=own_redis.url))
    async with app.router.lifespan_context(app), client_for(app) as http:
        assert (await http.get("/readyz")).status_code == 200
        own_redis.kill()
        down = await http.get("/readyz")
        assert down.status_code == 503 and "not ready" in down.text
        assert (await http.get("/healthz")).status_code == 200  # nothing to restart here
        errors = sample("live_redis_errors_total", kind="unreachable")
        assert errors >= 1
        own_redis.start()
        await until_ready(http)


@pytest.mark.asyncio
async def test_readyz_is_503_while_another_process_holds_the_sqlite_write_lock(
    started: Starlette,
) -> None:
    path = services_of(started).store.path  # type: ignore[attr-defined]
    blocker = sqlite3.connect(path, isolation_level=None)
    async with client_for(started) as http:
        assert (await http.get("/readyz")).status_code == 200
        blocker.execute("BEGIN IMMEDIATE")
        try:
            answer = await http.get("/readyz")  # waits READY_TIMEOUT_SECONDS (5 s)
            assert answer.status_code == 503, answer.text
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        await until_ready(http)


# Metrics --------------------------------------------------------------------------
@pytest.mark.asyncio
async def test_metrics_count_votes_by_outcome_and_time_requests(started: Starlette) -> None:
    headers = await api_headers(started)
    async with client_for(started) as http:
        poll = await open_poll(http, headers)
        path = f"/p/{poll['code']}"
        before = {
            "accepted": sample("live_votes_accepted_total"),
            "bad_choice": sample("live_votes_refused_total", reason="bad_choice"),
            "bad_token": sample("live_votes_refused_total", reason="bad_token"),
            "not_open": sample("live_votes_refused_total", reason="not_open"),
            "votes": sample("live_vote_duration_seconds_count"),
        }
        cookie = (await http.get(path)).cookies["live_voter"]
        json_vote = {"Accept": "application/json", "Cookie": f"live_voter={cookie}"}
        ok = await http.post(path, data={"choice": poll["finalists"][0]["id"]}, headers=json_vote)
        assert ok.status_code == 200
        bad = await http.post(path, data={"choice": "999999"}, headers=json_vote)
        assert bad.status_code == 400
        forged = {"Accept": "application/json", "Cookie": "live_voter=forged"}
        refused = await http.post(path, data={"choice": poll["finalists"][0]["id"]},
                                  headers=forged)  # fmt: skip
        assert refused.status_code == 403
        closed = await http.post(f"/api/polls/{poll['id']}/close", headers=headers)
        assert closed.status_code == 200
        late = await http.post(path, data={"choice": poll["finalists"][0]["id"]}, headers=json_vote)
        assert late.status_code == 409
        page = await http.get("/metrics")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/plain; version=")
    assert sample("live_votes_accepted_total") == before["accepted"] + 1
    for reason in ("bad_choice", "bad_token", "not_open"):
        assert sample("live_votes_refused_total", reason=reason) == before[reason] + 1, reason
    assert sample("live_vote_duration_seconds_count") == before["votes"] + 4
    text = page.text
    assert re.search(
        r'live_http_request_duration_seconds_count\{method="POST",route="/p/\{code\}"\}', text
    )
    assert 'route="/api/polls/{poll_id:id}/close"' in text
    assert poll["code"] not in text  # route templates, never raw paths
    assert "live_sqlite_writer_up 1.0" in text and "live_sqlite_writer_queue_depth" in text
    assert "live_sqlite_commit_duration_seconds_count" in text


@pytest.mark.asyncio
async def test_metrics_answer_only_this_machine_by_default(started: Starlette) -> None:
    async with client_for(started, "203.0.113.9") as far:
        refused = await far.get("/metrics", headers={"Accept": "application/json"})
    assert refused.status_code == 403
    assert "LIVE_METRICS_TOKEN" in refused.json()["error"]["message"]
    async with client_for(started, "::1") as near:
        assert (await near.get("/metrics")).status_code == 200


@pytest.mark.asyncio
async def test_with_a_metrics_token_metrics_want_it_from_everyone(
    make_settings: Callable[..., Settings],
) -> None:
    token = "metrics-token-0123456789"
    app = create_app(make_settings(LIVE_METRICS_TOKEN=token))
    async with app.router.lifespan_context(app):
        async with client_for(app) as near:
            assert (await near.get("/metrics")).status_code == 403
        async with client_for(app, "203.0.113.9", Authorization="Bearer wrong") as wrong:
            assert (await wrong.get("/metrics")).status_code == 403
        async with client_for(app, "203.0.113.9", Authorization=f"Bearer {token}") as far:
            assert (await far.get("/metrics")).status_code == 200


@pytest.mark.parametrize(
    ("key", "value"), [("LIVE_LOG_FORMAT", "xml"), ("LIVE_METRICS_TOKEN", "short")]
)
def test_bad_operations_settings_stop_the_start(tmp_path: Path, key: str, value: str) -> None:
    with pytest.raises(SettingsError, match=key):
        load_settings({"LIVE_DATA_DIR": str(tmp_path), key: value})


# The audit export -----------------------------------------------------------------
@pytest.mark.asyncio
async def test_the_audit_export_never_stalls_the_event_loop(
    started: Starlette, monkeypatch: pytest.MonkeyPatch
) -> None:
    """20,000 entries with ideas in them: the CSV is built a page at a time on worker
    threads; meanwhile the event loop keeps ticking (and would take votes)."""
    store = services_of(started).store
    idea = {"title": "Felles innbyggerdialog", "answers": {f"q{n}": "svar " * 40 for n in range(8)}}
    for start in range(0, 20_000, 2_000):
        await asyncio.gather(*(
            store.append_audit("org@ks.no", "idea.save", f"idea:{n}", before=idea, after=idea)
            for n in range(start, start + 2_000)
        ))  # fmt: skip
    entries = await store.list_audit(limit=30_000)
    assert len(entries) >= 20_000
    began = time.perf_counter()
    whole = exports.audit_csv(entries)
    build_seconds = time.perf_counter() - began

    loop_thread = threading.get_ident()
    built_on: list[int] = []
    real_audit_csv = exports.audit_csv

    def watched(chunk: Any) -> str:
        built_on.append(threading.get_ident())
        return real_audit_csv(chunk)

    monkeypatch.setattr(exports, "audit_csv", watched)
    gaps: list[float] = []

    async def tick() -> None:
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            await asyncio.sleep(0.005)
            now = loop.time()
            gaps.append(now - last)
            last = now

    await make_user(started, "org@ks.no", Role.ORGANISER)
    async with client_for(started) as http:
        assert (await log_in(http, "org@ks.no")).status_code == 303
        ticker = asyncio.create_task(tick())
        answer = await http.get("/admin/audit.csv")
        ticker.cancel()
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    exported = answer.content.decode("utf-8")
    assert exported.startswith(whole[:200]) and len(exported) >= len(whole)
    assert exported.count("\r\n") >= whole.count("\r\n")
    assert len(built_on) >= 20 and loop_thread not in built_on[1:]  # [0]: the header
    print(f"audit CSV of {len(entries)} entries: built whole in {build_seconds:.2f} s; "
          f"exported with the longest event-loop stall {max(gaps) * 1000:.0f} ms")  # fmt: skip
    assert max(gaps) < build_seconds / 2


# Logs -------------------------------------------------------------------------------
def test_the_redaction_masks_every_secret_shape() -> None:
    secret = "s3cr3t-Value_0123456789abcdef"
    lines = [
        f"Authorization: Bearer {secret}",
        f"headers={{'authorization': 'Bearer {secret}', 'cookie': 'live_session={secret}'}}",
        f"Cookie: live_voter={secret}; live_lang=nb",
        f"POST /admin/login email=a@b.no&password={secret}&csrf={secret}",
        f"GET /invitasjon/{secret} HTTP/1.1",
        f"GET /ideer/lenke/{secret}?x=1",
        f"GET /api/export?token={secret}&page=2",
        f'{{"password": "{secret}", "choice": [3, 1]}}',
        f"form: choice={secret}",
    ]
    for line in lines:
        assert secret not in logs.redact(line), line
    assert logs.redact("GET /p/ABC123 HTTP/1.1 200") == "GET /p/ABC123 HTTP/1.1 200"


def test_a_json_log_line_is_one_object_with_the_request_fields(tmp_path: Path) -> None:
    settings = load_settings({"LIVE_DATA_DIR": str(tmp_path), "LIVE_LOG_FORMAT": "json"})
    config = logs.config_dict(settings)
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/invitasjon/abcdefabcdef", "1.1", 200), None,
    )  # fmt: skip
    assert logs.Redact().filter(record)
    line = logs.JsonFormatter().format(record)
    entry = json.loads(line)
    assert entry["path"] == "/invitasjon/[redacted]" and entry["status"] == 200
    assert entry["level"] == "info" and entry["logger"] == "uvicorn.access"
    assert config["formatters"]["live"] == {"()": "live.logs.JsonFormatter"}


def test_a_vote_a_login_and_api_calls_leave_no_secret_in_the_logs(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "var", LIVE_LOG_LEVEL="debug", LIVE_LOG_FORMAT="json")
    server.start()
    try:
        token = server.organiser_token()
        body = {"title": "Finalen", "finalists": [{"name": n} for n in "ABC"]}
        poll = api(server, token, "POST", "/api/polls", json=body)
        api(server, token, "POST", f"/api/polls/{poll['id']}/open")
        secrets_seen = asyncio.run(_exercise(server, poll))
        secrets_seen += [token, "a long password"]
    finally:
        server.stop()
    text = server.log_path.read_text()
    lines = [line for line in text.splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    assert any(e.get("path", "").startswith("/api/polls") for e in entries)
    assert any(e.get("path") == "/invitasjon/[redacted]" for e in entries)
    assert any(e.get("method") == "POST" and e.get("path") == f"/p/{poll['code']}"
               for e in entries)  # fmt: skip
    for value in secrets_seen:
        assert value not in text, f"a secret reached the log: {value[:6]}…"
    assert not re.search(r"choice", text), "a voter's choice reached the log"


async def _exercise(server: ServerProcess, poll: dict[str, Any]) -> list[str]:
    """A vote, a stage stream, a login, a failed login, a secret link: the secrets used."""
    seen: list[str] = []
    path = f"/p/{poll['code']}"
    async with cookieless_client(server.url, timeout=10) as http:
        voter = await new_voter(http, path)
        seen.append(voter)
        assert (await vote(http, path, voter, poll["finalists"][1]["id"])).status_code == 200
        async with connect(f"{server.ws_url}/p/{poll['code']}/stream") as socket:
            await socket.recv()
            metrics = (await http.get("/metrics")).text
            assert 'live_stream_subscribers{stream="stage"} 1.0' in metrics
        assert (await http.get("/invitasjon/Q2x9secretInvitationToken")).status_code in (404, 410)
        seen.append("Q2x9secretInvitationToken")
        login_page = await http.get("/admin/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', login_page.text)
        assert csrf is not None
        seen.append(csrf.group(1))
        cookie = {"Cookie": f"live_login_csrf={login_page.cookies['live_login_csrf']}"}
        seen.append(login_page.cookies["live_login_csrf"])
        form = {"email": "org@example.no", "password": "wrong password 123", "csrf": csrf.group(1)}
        wrong = await http.post("/admin/login", headers=cookie, data=form)
        assert wrong.status_code < 500
        seen.append("wrong password 123")
        form["password"] = "a long password"
        right = await http.post("/admin/login", headers=cookie, data=form)
        assert right.status_code == 303, right.text
        session = right.cookies["live_session"]
        seen.append(session)
        dashboard = await http.get("/admin", headers={"Cookie": f"live_session={session}"})
        assert dashboard.status_code == 200
    return seen
