"""The bare baseline for ops/bench.py: a Starlette endpoint that parses a small form."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def vote(request: Request) -> JSONResponse:
    form = await request.form()
    return JSONResponse({"status": "recorded", "choice": form.get("choice")})


app = Starlette(routes=[Route("/vote", vote, methods=["POST"])])
