"""The HTTP and websocket surface: one module per audience (voters, stage, organisers, API)."""

from live.web import routing as _routing  # noqa: F401 - registers the `id` URL convertor
