"""The OpenAPI 3.1 document for `/api/`, written out so that it says exactly what we mean."""

from __future__ import annotations

from typing import Any

_ERROR = {"$ref": "#/components/responses/Error"}
_POLL = {"application/json": {"schema": {"$ref": "#/components/schemas/Poll"}}}
_RESULTS = {"application/json": {"schema": {"$ref": "#/components/schemas/Results"}}}


def _op(
    summary: str,
    ok: str,
    content: dict[str, Any] | None,
    *errors: str,
    body: str | None = None,
    optional: bool = False,
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "responses": {ok: {"description": "OK", **({"content": content} if content else {})}},
    }
    # A body is read strictly (live/inputs.py): unreadable JSON is 400, a large one 413.
    for status in ("401", "403", *errors, *(("400", "413") if body else ())):
        operation["responses"][status] = _ERROR
    if body:
        operation["requestBody"] = {
            "required": not optional,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{body}"}}},
        }
    return operation


_BADGE = {"application/json": {"schema": {"$ref": "#/components/schemas/Badge"}}}
_BADGE_LIST = {"application/json": {"schema": {"$ref": "#/components/schemas/BadgeList"}}}
_BADGES_MADE = {"application/json": {"schema": {"$ref": "#/components/schemas/BadgesMade"}}}
_POLL_ID = [{"name": "poll_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
_AUDIT_QUERY = [
    {
        "name": "after",
        "in": "query",
        "required": False,
        "description": "Entries with a higher id than this (0: from the first).",
        "schema": {"type": "integer", "minimum": 0, "maximum": 10**15 - 1, "default": 0},
    },
    {
        "name": "limit",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100},
    },
]


def openapi_document(server_url: str) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "live", "version": "1",
                 "description": "Finale polls for KS's idea competition. Send a token from "
                                "`live api-token EMAIL` as `Authorization: Bearer TOKEN`."},
        "servers": [{"url": server_url}],
        "security": [{"bearer": []}],
        "paths": {
            "/api/polls": {
                "get": _op("List polls", "200", {"application/json": {"schema": {
                    "type": "object", "properties": {"polls": {"type": "array", "items": {
                        "$ref": "#/components/schemas/Poll"}}}}}}),
                "post": _op("Create a draft poll", "201", _POLL, "400", "413", body="PollDraft"),
            },
            "/api/polls/{poll_id}": {
                "parameters": _POLL_ID,
                "get": _op("One poll", "200", _POLL, "404"),
                "put": _op("Replace a draft poll", "200", _POLL, "400", "404", "409",
                           body="PollDraft"),
            },
            "/api/polls/{poll_id}/open": {
                "parameters": _POLL_ID, "post": _op("Open voting", "200", _POLL, "404", "409")},
            "/api/polls/{poll_id}/close": {
                "parameters": _POLL_ID,
                "post": _op("Close voting and lock the result", "200", _POLL, "404", "409")},
            "/api/polls/{poll_id}/hide-counts": {
                "parameters": _POLL_ID,
                "post": _op("Hide or show counts on the public stream", "200", _POLL, "400",
                            "404", body="HideCounts")},
            "/api/polls/{poll_id}/countdown": {
                "parameters": _POLL_ID,
                "post": _op("Close the poll S seconds from now (again: move that time); "
                            "null cancels", "200", _POLL, "400", "404", "409",
                            body="Countdown")},
            "/api/polls/{poll_id}/reveal": {
                "parameters": _POLL_ID,
                "post": _op("Reveal place N (200, no change, if shown already; 409 unless it "
                            "is next); without a body the next place (third, second, first)",
                            "200", _POLL, "400", "404", "409", body="Reveal", optional=True)},
            "/api/polls/{poll_id}/show-results": {
                "parameters": _POLL_ID,
                "post": _op("Show the full result on the stage after the reveal", "200", _POLL,
                            "400", "404", "409", body="ShowResults")},
            "/api/polls/{poll_id}/results": {
                "parameters": _POLL_ID,
                "get": _op("Running or locked results", "200", _RESULTS, "404")},
            "/api/polls/{poll_id}/bulletin": {
                "parameters": [*_POLL_ID, {"name": "download", "in": "query", "required": False,
                                           "description": "1: as a file to keep, "
                                                          "bulletin-CODE.json.",
                                           "schema": {"type": "string"}}],
                "get": {**_op("Every counted ballot of a closed poll, for anyone to recount "
                              "(no token needed; before the reveal is complete only for "
                              "organisers and hosts; 409 before closing)", "200", {
                                  "application/json": {"schema": {
                                      "$ref": "#/components/schemas/Bulletin"}}}, "404", "409"),
                        "security": [{}, {"bearer": []}]}},
            "/api/polls/{poll_id}/ties": {
                "parameters": _POLL_ID,
                "post": _op("Resolve a tie for a winning place by the poll's announced rule "
                            "(409 for another rule)", "201", _RESULTS, "400", "404", "409",
                            body="TieResolution")},
            "/api/polls/{poll_id}/expected-voters": {
                "parameters": _POLL_ID,
                "post": _op("Set the number of voters expected, for the console (organisers; "
                            "any status)", "200", _POLL, "400", "404", body="ExpectedVoters")},
            "/api/polls/{poll_id}/stage-order": {
                "parameters": _POLL_ID,
                "post": _op("Set a draft's stage order: the organiser's order, or a draw. The "
                            "finalists' ids may change (organisers)", "200", _POLL, "400", "404",
                            "409", body="StageOrder")},
            "/api/polls/{poll_id}/flagged": {
                "parameters": _POLL_ID,
                "get": _op("Flagged ballots that still count (receipts, not choices), and the "
                           "exclusions so far (organisers)", "200", {"application/json": {
                               "schema": {"$ref": "#/components/schemas/Flagged"}}}, "404")},
            "/api/polls/{poll_id}/exclusions": {
                "parameters": _POLL_ID,
                "post": _op("Exclude every flagged ballot that counts, by a recorded decision, "
                            "while the poll is open (409 when closed, not open yet, or none is "
                            "flagged; organisers)", "201", {"application/json": {"schema": {
                                "$ref": "#/components/schemas/Exclusion"}}}, "400", "404",
                            "409", body="ExclusionRequest")},
            "/api/polls/{poll_id}/badges": {
                "parameters": _POLL_ID,
                "get": _op("The poll's badges with used and revoked (organisers)", "200",
                           _BADGE_LIST, "404"),
                "post": _op("Make N more badges for a badge poll that is not closed "
                            "(organisers)", "201", _BADGES_MADE, "404", "409",
                            body="BadgeRequest")},
            "/api/polls/{poll_id}/badges/{code}/revoke": {
                "parameters": [*_POLL_ID, {"name": "code", "in": "path", "required": True,
                                           "schema": {"type": "string"},
                                           "description": "ABCDE-FGHJK, in any case, with "
                                                          "or without the dash."}],
                "post": _op("Revoke a badge: it cannot vote and its ballot leaves the count "
                            "(a repeat is a harmless 200; organisers)", "200", _BADGE, "404",
                            "409")},
            "/api/audit": {
                "get": {**_op("The audit log after an entry, oldest first (organisers)", "200",
                              {"application/json": {"schema": {
                                  "$ref": "#/components/schemas/AuditPage"}}}, "400"),
                        "parameters": _AUDIT_QUERY}},
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "responses": {"Error": {"description": "An error, in the caller's language",
                                    "content": {"application/json": {"schema": {
                                        "$ref": "#/components/schemas/Error"}}}}},
            "schemas": _SCHEMAS,
        },
    }  # fmt: skip


_FINALIST = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 120},
        "pitch": {"type": "string", "maxLength": 600},
        "owner": {"type": "string", "maxLength": 200},
    },
}

_SETTINGS = {
    "eligibility": {
        "type": "string",
        "enum": ["open", "badge"],
        "default": "open",
        "description": "Who may vote: open (one ballot per device; stops "
        "accidents, not someone voting from many browsers) or "
        "badge (one ballot per one-time badge).",
    },
    "max_choices": {
        "type": ["integer", "null"],
        "minimum": 1,
        "maximum": 9,
        "description": "Approval only (required there): how many finalists a "
        "voter may approve, fewer than the finalists.",
    },
    "tie_rule": {
        "type": "string",
        "enum": ["lots", "decision"],
        "default": "lots",
        "description": "The rule announced for a tie for a winning place.",
    },
    "expected_voters": {
        "type": ["integer", "null"],
        "minimum": 1,
        "maximum": 100000,
        "description": "For the console; may change in any status.",
    },
}

_SCHEMAS: dict[str, Any] = {
    "PollDraft": {
        "type": "object",
        "required": ["title", "finalists"],
        "properties": {
            "title": {"type": "string", "minLength": 1, "maxLength": 200},
            "finalists": {"type": "array", "minItems": 2, "maxItems": 10, "items": _FINALIST},
            "method": {"type": "string", "enum": ["single", "ranked", "approval"],
                       "default": "single"},
            "winners": {"type": "integer", "minimum": 1, "maximum": 10, "default": 3},
            **_SETTINGS,
        },
        "description": "The finalists' order is the stage's order. Who may vote, the method, "
                       "max_choices and the tie rule are fixed once the poll opens.",
    },
    "Poll": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"}, "code": {"type": "string"}, "title": {"type": "string"},
            "method": {"type": "string", "enum": ["single", "ranked", "approval"]},
            "winners": {"type": "integer"},
            **_SETTINGS,
            "choice_limit": {"type": "integer",
                             "description": "How many finalists one ballot may name: 1 "
                                            "(single), 3 (ranked) or max_choices (approval)."},
            "status": {"type": "string", "enum": ["draft", "open", "closed"]},
            "hide_counts": {"type": "boolean"}, "revealed": {"type": "integer"},
            "closes_at": {"type": ["string", "null"], "format": "date-time",
                          "description": "While open: when the server closes the poll."},
            "show_results": {"type": "boolean"},
            "version": {"type": "integer"},
            "finalists": {"type": "array", "description": "In the stage's order.",
                          "items": {"type": "object", "properties": {
                "id": {"type": "integer"}, "name": {"type": "string"},
                "pitch": {"type": "string"}, "owner": {"type": "string"}}}},
            "ballot_url": {"type": "string", "format": "uri"},
            "stage_url": {"type": "string", "format": "uri"},
            "stream_url": {"type": "string", "format": "uri",
                           "description": "Websocket: the server's clock, then JSON snapshots "
                                          "with version, status, ballots, closes_at, the "
                                          "revealed podium, and tally only while counts may "
                                          "be seen (never from closing until the last "
                                          "winning place is revealed)."},
        },
    },
    "Standing": {
        "type": "object",
        "properties": {"finalist_id": {"type": "integer"}, "name": {"type": "string"},
                       "score": {"type": "integer"}, "place": {"type": "integer"},
                       "tied": {"type": "boolean"}},
    },
    "Results": {
        "type": "object",
        "properties": {
            "status": {"type": "string"}, "ballots": {"type": "integer"},
            "tally": {"type": "array", "items": {"$ref": "#/components/schemas/Standing"}},
            "winners": {"type": "array", "items": {"type": "integer"},
                        "description": "Finalist ids in place order; shorter than the number "
                                       "of winners while a tie for a winning place is open."},
            "open_ties": {"type": "array", "items": {"type": "object"}},
            "resolutions": {"type": "array", "items": {"type": "object"}},
            "locked_at": {"type": ["string", "null"]},
            "digest": {"type": ["string", "null"],
                       "description": "The bulletin's digest once the poll is closed."},
        },
    },
    "Bulletin": {
        "type": "object",
        "description": "digest is \"sha256:\" + the hex SHA-256 of the document without "
                       "digest, as JSON with sorted keys, separators \",\" and \":\", "
                       "not ASCII-escaped, in UTF-8 (see the README).",
        "required": ["format", "poll", "finalists", "ballots", "excluded", "exclusions",
                     "tie_resolutions", "tally", "winners", "locked_at", "digest"],
        "properties": {
            "format": {"const": "live-bulletin/1"},
            "poll": {"type": "object"},
            "finalists": {"type": "array", "items": {"type": "object"}},
            "ballots": {"type": "array", "items": {
                "type": "object", "required": ["receipt", "choices"],
                "properties": {"receipt": {"type": "string"},
                               "choices": {"type": "array", "items": {"type": "integer"}}}}},
            "excluded": {"type": "array", "items": {"type": "object"}},
            "exclusions": {"type": "array", "items": {"type": "object"}},
            "tie_resolutions": {"type": "array", "items": {"type": "object"}},
            "tally": {"type": "array", "items": {"type": "object"}},
            "winners": {"type": "array", "items": {"type": "integer"}},
            "locked_at": {"type": "string"},
            "digest": {"type": "string", "pattern": "^sha256:[0-9a-f]{64}$"},
        },
    },
    "HideCounts": {"type": "object", "required": ["hidden"],
                   "properties": {"hidden": {"type": "boolean"}}},
    "ShowResults": {"type": "object", "required": ["shown"],
                    "properties": {"shown": {"type": "boolean"}}},
    "Countdown": {"type": "object", "required": ["seconds"],
                  "properties": {"seconds": {"type": ["integer", "null"], "minimum": 5,
                                             "maximum": 3600}}},
    "Reveal": {"type": "object",
               "properties": {"place": {"type": "integer", "minimum": 1, "maximum": 10}}},
    "TieResolution": {
        "type": "object",
        "required": ["order"],
        "properties": {
            "rule": {"type": "string", "enum": ["lots", "decision"],
                     "description": "Must be the poll's announced tie_rule (the default)."},
            "order": {"type": "array", "items": {"type": "integer"},
                      "description": "The tied finalists; for `decision`, in the decided order."},
            "note": {"type": "string", "description": "Required for `decision`: who and why."},
        },
    },
    "BadgeRequest": {"type": "object", "required": ["count"],
                     "properties": {"count": {"type": "integer", "minimum": 1,
                                              "maximum": 10000}}},
    "BadgesMade": {
        "type": "object",
        "properties": {"badges": {"type": "array", "items": {"type": "object", "properties": {
            "code": {"type": "string", "description": "ABCDE-FGHJK: what a voter types."},
            "url": {"type": "string", "format": "uri",
                    "description": "The ballot with this badge (its QR code)."}}}}},
    },
    "Badge": {
        "type": "object",
        "properties": {
            "code": {"type": "string"}, "url": {"type": "string", "format": "uri"},
            "used": {"type": "boolean", "description": "A ballot is recorded for it now."},
            "revoked": {"type": "boolean"},
            "created_at": {"type": "string", "format": "date-time"},
            "revoked_at": {"type": ["string", "null"], "format": "date-time"},
        },
    },
    "BadgeList": {
        "type": "object",
        "properties": {
            "badges": {"type": "array", "items": {"$ref": "#/components/schemas/Badge"}},
            "made": {"type": "integer"}, "used": {"type": "integer"},
            "revoked": {"type": "integer"},
        },
    },
    "ExpectedVoters": {"type": "object", "required": ["expected_voters"],
                       "properties": {"expected_voters": {"type": ["integer", "null"],
                                                          "minimum": 1, "maximum": 100000}}},
    "StageOrder": {
        "type": "object",
        "description": "Either order or draw: true.",
        "properties": {
            "order": {"type": "array", "items": {"type": "integer"},
                      "description": "Every finalist's id once, in the stage's order."},
            "draw": {"type": "boolean", "const": True,
                     "description": "Draw the order (from the operating system's CSPRNG)."},
        },
    },
    "Exclusion": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"}, "note": {"type": "string"},
            "decided_by": {"type": "string"},
            "decided_at": {"type": "string", "format": "date-time"},
            "ballots": {"type": "integer", "description": "How many ballots it took out."},
        },
    },
    "ExclusionRequest": {"type": "object", "required": ["note"],
                         "properties": {"note": {"type": "string", "minLength": 1,
                                                 "maxLength": 500,
                                                 "description": "Who decided, and why."}}},
    "Flagged": {
        "type": "object",
        "properties": {
            "ballots": {"type": "array", "items": {"type": "object", "properties": {
                "receipt": {"type": "string"},
                "updated_at": {"type": "string", "format": "date-time"}}}},
            "count": {"type": "integer"},
            "exclusions": {"type": "array",
                           "items": {"$ref": "#/components/schemas/Exclusion"}},
        },
    },
    "AuditEntry": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"}, "at": {"type": "string", "format": "date-time"},
            "actor": {"type": "string"}, "action": {"type": "string"},
            "subject": {"type": "string", "description": "What changed, as kind:key."},
            "before": {"description": "The data before (JSON), or null."},
            "after": {"description": "The data after (JSON), or null."},
        },
    },
    "AuditPage": {
        "type": "object",
        "properties": {
            "entries": {"type": "array", "items": {"$ref": "#/components/schemas/AuditEntry"}},
            "next_after": {"type": "integer",
                           "description": "Send as `after` to read on (the last id here)."},
            "more": {"type": "boolean",
                     "description": "More entries are waiting already; otherwise ask later."},
        },
    },
    "Error": {
        "type": "object",
        "properties": {"error": {"type": "object", "properties": {
            "code": {"type": "string"}, "message": {"type": "string"},
            "field": {"type": "string"}}}},
    },
}  # fmt: skip
