"""Who takes part: the municipalities of 2022, their counties, and the networks.

The facts ship as CSV in `live/data/` (from the municipality register and the networks'
own pages); organisers can import newer files in the same format, with any line ending.
A row with too few or too many fields is refused, naming its line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources

from live import inputs

COLLEGE_ID = "kollegiet"


class NetworkKind(StrEnum):
    REGIONAL = "regional"
    COLLEGE = "college"


@dataclass(frozen=True)
class Network:
    id: str
    name: str
    kind: NetworkKind
    county_numbers: tuple[str, ...]


@dataclass(frozen=True)
class Municipality:
    number: str
    name: str
    official_names: tuple[str, ...]
    county_number: str
    county_name: str
    network_id: str | None
    sami_area: bool


@dataclass(frozen=True)
class County:
    number: str
    name: str


class CsvError(ValueError):
    """A bad row in an imported file; the message names the line and the field."""


def _rows(text: str, required: Iterable[str]) -> list[tuple[int, dict[str, str]]]:
    """Each data row by its column names, with its line; blank lines are skipped.

    A CSV error (a field past the csv module's limit) is `live.errors.BadRequest`."""
    lines = [(line, cells) for line, cells in inputs.csv_rows(text) if any(cells)]
    header = [cell.strip() for cell in lines[0][1]] if lines else []
    missing = [name for name in required if name not in header]
    if missing:
        raise CsvError(f"line 1: missing columns {', '.join(missing)}")
    rows = []
    for line, cells in lines[1:]:
        if len(cells) != len(header):
            raise CsvError(
                f"line {line}: {len(cells)} fields, but the first line names {len(header)} columns"
            )
        rows.append((line, dict(zip(header, cells, strict=True))))
    return rows


def parse_networks(text: str) -> list[Network]:
    networks = []
    for line, row in _rows(text, ("network_id", "name", "kind", "county_numbers")):
        try:
            kind = NetworkKind(row["kind"])
        except ValueError:
            raise CsvError(f"line {line}: kind must be regional or college, "
                           f"not {row['kind']!r}") from None  # fmt: skip
        if not row["network_id"] or not row["name"]:
            raise CsvError(f"line {line}: network_id and name are required")
        counties = tuple(c for c in row["county_numbers"].split(";") if c)
        networks.append(Network(row["network_id"], row["name"], kind, counties))
    return networks


def parse_municipalities(text: str) -> list[Municipality]:
    required = ("municipality_number", "name", "all_official_names", "county_number",
                "county_name", "network_id", "sami_administrative_area")  # fmt: skip
    found = []
    for line, row in _rows(text, required):
        number = row["municipality_number"]
        if len(number) != 4 or not (number.isascii() and number.isdigit()):
            raise CsvError(f"line {line}: municipality_number must be four digits, "
                           f"not {number!r}")  # fmt: skip
        if not row["name"]:
            raise CsvError(f"line {line}: name is required")
        names = tuple(n.strip() for n in row["all_official_names"].split("/") if n.strip())
        found.append(Municipality(
            number=number, name=row["name"], official_names=names or (row["name"],),
            county_number=row["county_number"], county_name=row["county_name"],
            network_id=row["network_id"] or None,
            sami_area=row["sami_administrative_area"] == "yes",
        ))  # fmt: skip
    return found


def _shipped(name: str) -> str:
    return resources.files("live").joinpath("data", name).read_text(encoding="utf-8")


class Directory:
    """Municipalities, counties and networks, with lookups by number and by name."""

    def __init__(self, municipalities: Iterable[Municipality], networks: Iterable[Network]):
        self.municipalities = {m.number: m for m in municipalities}
        self.networks = {n.id: n for n in networks}
        self.counties = {m.county_number: County(m.county_number, m.county_name)
                         for m in self.municipalities.values()}  # fmt: skip
        unknown = {m.network_id for m in self.municipalities.values()} - set(self.networks)
        unknown.discard(None)
        if unknown:
            raise CsvError(f"municipalities name unknown networks: {sorted(map(str, unknown))}")

    @classmethod
    def shipped(cls) -> Directory:
        """The 2022 facts that ship with the service."""
        return cls(parse_municipalities(_shipped("municipalities-2022.csv")),
                   parse_networks(_shipped("networks-2022.csv")))  # fmt: skip

    def search(self, text: str, limit: int = 10) -> list[Municipality]:
        """Municipalities by number or by any official name (Sami and Kven names too)."""
        query = text.strip().casefold()
        if not query:
            return []
        if query.isascii() and query.isdigit():
            return [m for n, m in sorted(self.municipalities.items()) if n.startswith(query)][
                :limit
            ]
        starts, contains = [], []
        for municipality in sorted(self.municipalities.values(), key=lambda m: m.name):
            names = [n.casefold() for n in (municipality.name, *municipality.official_names)]
            if any(n.startswith(query) for n in names):
                starts.append(municipality)
            elif any(query in n for n in names):
                contains.append(municipality)
        return (starts + contains)[:limit]
