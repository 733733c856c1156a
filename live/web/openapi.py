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
            "/api/polls/{poll_id}/ties": {
                "parameters": _POLL_ID,
                "post": _op("Resolve a tie for a winning place", "201", _RESULTS, "400", "404",
                            "409", body="TieResolution")},
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

_SCHEMAS: dict[str, Any] = {
    "PollDraft": {
        "type": "object",
        "required": ["title", "finalists"],
        "properties": {
            "title": {"type": "string", "minLength": 1, "maxLength": 200},
            "finalists": {"type": "array", "minItems": 2, "maxItems": 10, "items": _FINALIST},
            "method": {"type": "string", "enum": ["single", "ranked"], "default": "single"},
            "winners": {"type": "integer", "minimum": 1, "maximum": 10, "default": 3},
        },
    },
    "Poll": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"}, "code": {"type": "string"}, "title": {"type": "string"},
            "method": {"type": "string", "enum": ["single", "ranked"]},
            "winners": {"type": "integer"},
            "status": {"type": "string", "enum": ["draft", "open", "closed"]},
            "hide_counts": {"type": "boolean"}, "revealed": {"type": "integer"},
            "closes_at": {"type": ["string", "null"], "format": "date-time",
                          "description": "While open: when the server closes the poll."},
            "show_results": {"type": "boolean"},
            "version": {"type": "integer"},
            "finalists": {"type": "array", "items": {"type": "object", "properties": {
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
        "required": ["rule", "order"],
        "properties": {
            "rule": {"type": "string", "enum": ["lots", "decision"]},
            "order": {"type": "array", "items": {"type": "integer"},
                      "description": "The tied finalists; for `decision`, in the decided order."},
            "note": {"type": "string", "description": "Required for `decision`: who and why."},
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
