"""Finalists from CSV or JSON files, with every bad row reported."""

from __future__ import annotations

import json

import pytest

from live.finale.finalist_import import parse_finalists


def messages(data: bytes, filename: str = "finalists.csv") -> list[str]:
    return [p.message % {"row": p.row, **p.params} for p in parse_finalists(filename, data)[1]]


def test_comma_csv_with_english_headers() -> None:
    data = b"name,pitch,owner\nAlfa,Fast,Bergen kommune\nBravo,,\n"
    finalists, problems = parse_finalists("f.csv", data)
    assert problems == []
    assert finalists == [
        {"name": "Alfa", "pitch": "Fast", "owner": "Bergen kommune"},
        {"name": "Bravo", "pitch": "", "owner": ""},
    ]


def test_semicolon_csv_from_a_norwegian_spreadsheet() -> None:
    data = "\ufeffNavn;Beskrivelse;Idéeier\nÅpne data;Skyss, ruter;Vestland\nØkonomi;;\n"
    finalists, problems = parse_finalists("f.csv", data.encode())
    assert problems == []
    assert [f["name"] for f in finalists] == ["Åpne data", "Økonomi"]
    assert finalists[0]["pitch"] == "Skyss, ruter" and finalists[0]["owner"] == "Vestland"


def test_json_list_or_object() -> None:
    rows = [{"name": "A", "pitch": "p"}, {"navn": "B"}]
    for document in (rows, {"finalists": rows}):
        finalists, problems = parse_finalists("f.json", json.dumps(document).encode())
        assert problems == [] and [f["name"] for f in finalists] == ["A", "B"]


def test_every_bad_row_is_reported_with_its_number() -> None:
    data = b"name,pitch\nAlfa,ok\n,no name\nAlfa,twice\nDelta," + b"x" * 700 + b"\n"
    assert messages(data) == [
        "Row 2: the name is missing.",
        "Row 3: Alfa appears twice.",
        "Row 4: pitch is longer than 600 characters.",
    ]
    bad_json = json.dumps([{"name": "A"}, "B", {"pitch": "no name"}]).encode()
    assert messages(bad_json, "f.json") == [
        "Row 2: each finalist must be an object.",
        "Row 3: the name is missing.",
    ]


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "The file is empty."),
        (b"title,text\nA,B\n", "The first row must name the columns"),
        (b"\xff\xfe\x00", "The file must be saved as UTF-8"),
        (b'[{"name": ', "The JSON cannot be read"),
        (b'{"polls": []}', "The JSON must be a list"),
        (b"name\nOnly one\n", "The file has 1 finalists"),
        (b"name\n" + b"".join(b"F%d\n" % n for n in range(11)), "The file has 11 finalists"),
    ],
)
def test_file_level_problems(data: bytes, problem: str) -> None:
    found = messages(data)
    assert len(found) == 1 and found[0].startswith(problem)
