"""The idea form: the call's questions, and the rules an idea must meet to be submitted.

A draft needs only a title; a submitted idea needs every required answer and an eligible
owner; its sender may withdraw it before the deadline, and submit it again. `check_idea`
returns the cleaned answers and, per field, what is wrong with it, so the form can show
each problem beside its field.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from typing import Any

from live.contest.organisations import COLLEGE_ID, Directory
from live.contest.routing import IdeaOwner, Ineligible, OwnerKind, check_owner
from live.errors import N_, Conflict

LEVELS = ("low", "medium", "high")
NOVELTY = ("new", "scale_up", "develop_existing")
SHORT, LONG = 200, 4000

# The text fields: name, maximum length, required for submission.
TEXT_FIELDS: tuple[tuple[str, int, bool], ...] = (
    ("title", 120, True),  # it becomes the finalist's name on the ballot
    ("company_name", SHORT, False),
    ("partners", LONG, False),
    ("contact_name", SHORT, True),
    ("contact_email", SHORT, True),
    ("contact_phone", 40, False),
    ("need", LONG, True),
    ("benefit_quantitative", LONG, True),
    ("benefit_qualitative", LONG, True),
    ("goals_text", LONG, True),
    ("execution_risk_text", LONG, True),
    ("benefit_risk_text", LONG, True),
    ("criticality_text", LONG, True),
)
CHOICE_FIELDS: tuple[tuple[str, tuple[str, ...], bool], ...] = (
    ("execution_risk_level", LEVELS, True),
    ("benefit_risk_level", LEVELS, True),
    ("criticality_level", LEVELS, True),
    ("novelty", NOVELTY, True),
)
# The fields in the order the form shows them, so that the error summary reads the same way.
FORM_ORDER = (
    "title", "owner", "company_name", "partners", "contact_name", "contact_email",
    "contact_phone", "need", "roadmap_phase", "benefit_quantitative", "benefit_qualitative",
    "goals", "goals_text", "life_events", "execution_risk_level", "execution_risk_text",
    "benefit_risk_level", "benefit_risk_text", "criticality_level", "criticality_text",
    "novelty",
)  # fmt: skip
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def is_email(text: str) -> bool:
    """A plausible e-mail address (the mail server has the last word)."""
    return bool(_EMAIL.match(text))


class IdeaStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    WITHDRAWN = "withdrawn"  # by its sender, before the deadline; it may be submitted again


def check_withdrawable(status: IdeaStatus) -> None:
    """Conflict unless an idea with `status` can be withdrawn: only a submitted one can
    (a draft was never sent; the deadline is checked with the edition)."""
    if status is IdeaStatus.WITHDRAWN:
        raise Conflict(N_("The idea is withdrawn already."))
    if status is not IdeaStatus.SUBMITTED:
        raise Conflict(N_("Only a submitted idea can be withdrawn; a draft is never sent."))


@dataclass(frozen=True)
class Option:
    value: str
    text: str


def _options(name: str, value_column: str) -> tuple[Option, ...]:
    text = resources.files("live").joinpath("data", name).read_text(encoding="utf-8")
    return tuple(
        Option(row[value_column], row["text_nb"]) for row in csv.DictReader(text.splitlines())
    )


GOALS = _options("strategy-goals.csv", "goal_number")
LIFE_EVENTS = _options("life-events.csv", "life_event")
ROADMAP_PHASES = _options("service-innovation-roadmap.csv", "phase")

# The shipped texts are bokmål. These msgids let the catalogues show them in nynorsk and
# English too (the bokmål catalogue holds the shipped text); `tests/test_contest_ideas.py`
# checks that every shipped option has one, so a new CSV row cannot go untranslated.
OPTION_MSGIDS: dict[str, str] = {
    "goal:1": N_("The public sector is digitalised in an open, inclusive and trustworthy way."),
    "goal:2": N_("More tasks are solved digitally, and as seamless services."),
    "goal:3": N_("All residents, businesses and voluntary organisations that are able to "
                 "communicate digitally with the public sector."),
    "goal:4": N_("The public sector uses the potential in sharing and using data to make "
                 "user-friendly services and to help create value for business."),
    "goal:5": N_("Municipal and state bodies build their services on a common digital "
                 "ecosystem for cooperation."),
    "goal:6": N_("Municipal and state bodies realise the benefits of digitalisation "
                 "systematically."),
    "life_event:have-a-child": N_("Having a child"),
    "life_event:seriously-ill-child": N_("A seriously ill child"),
    "life_event:lose-and-find-a-job": N_("Losing and finding a job"),
    "life_event:new-in-norway": N_("New in Norway"),
    "life_event:death-and-inheritance": N_("Death and inheritance"),
    "life_event:start-and-run-a-business": N_("Starting and running a business"),
    "life_event:start-and-run-a-voluntary-organisation": N_(
        "Starting and running a voluntary organisation"
    ),
    "phase:1": N_("Anchoring"),
    "phase:2": N_("Insight"),
    "phase:3": N_("Service development"),
    "phase:4": N_("Piloting"),
    "phase:5": N_("Into operation"),
    "phase:6": N_("New practice"),
}  # fmt: skip


def option_msgid(kind: str, option: Option) -> str:
    """The catalogue msgid for a shipped option (`kind`: goal, life_event, phase)."""
    return OPTION_MSGIDS.get(f"{kind}:{option.value}", option.text)


@dataclass(frozen=True)
class FieldError:
    message: str
    params: Mapping[str, Any]


def owner_value(owner: IdeaOwner) -> str:
    """The owner as the form's select names it: m:1103, c:11, n:digi-rogaland, k:kollegiet."""
    prefix = {OwnerKind.MUNICIPALITY: "m", OwnerKind.MUNICIPAL_COMPANY: "m",
              OwnerKind.COUNTY_MUNICIPALITY: "c", OwnerKind.COUNTY_COMPANY: "c",
              OwnerKind.NETWORK: "n", OwnerKind.COLLEGE: "k"}[owner.kind]  # fmt: skip
    return f"{prefix}:{owner.ref}"


def parse_owner(value: str, company_name: str) -> IdeaOwner:
    """The owner picked in the form; with a company name, the company that owner owns."""
    prefix, _, ref = value.partition(":")
    company = company_name.strip()
    kinds = {"m": (OwnerKind.MUNICIPALITY, OwnerKind.MUNICIPAL_COMPANY),
             "c": (OwnerKind.COUNTY_MUNICIPALITY, OwnerKind.COUNTY_COMPANY),
             "n": (OwnerKind.NETWORK, None), "k": (OwnerKind.COLLEGE, None)}  # fmt: skip
    if prefix not in kinds or not ref:
        raise Ineligible(f"unknown owner {value!r}")
    plain, as_company = kinds[prefix]
    if company and as_company is None:
        raise Ineligible("a company is owned by a municipality or a county municipality")
    return IdeaOwner(as_company if company and as_company else plain, ref, company)


def owner_label(owner: IdeaOwner, directory: Directory) -> str:
    """The owner's name as people know it (the company first, then who owns it)."""
    kind = owner.kind
    if kind in (OwnerKind.MUNICIPALITY, OwnerKind.MUNICIPAL_COMPANY):
        found = directory.municipalities.get(owner.ref)
        name = f"{found.name} kommune" if found else owner.ref
    elif kind in (OwnerKind.COUNTY_MUNICIPALITY, OwnerKind.COUNTY_COMPANY):
        county = directory.counties.get(owner.ref)
        name = f"{county.name} fylkeskommune" if county else owner.ref
    else:
        network = directory.networks.get(owner.ref)
        name = network.name if network else owner.ref
    return f"{owner.company_name} ({name})" if owner.company_name else name


def check_idea(
    form: Mapping[str, str | Sequence[str]], directory: Directory, *, submitting: bool
) -> tuple[dict[str, Any], dict[str, FieldError]]:
    """The cleaned answers and the problems by field; a draft needs only its title."""
    answers: dict[str, Any] = {}
    errors: dict[str, FieldError] = {}

    def text(name: str) -> str:
        value = form.get(name, "")
        return (value if isinstance(value, str) else "").strip().replace("\r\n", "\n")

    def many(name: str) -> list[str]:
        value = form.get(name, [])
        return [value] if isinstance(value, str) else list(value)

    for name, limit, required in TEXT_FIELDS:
        answers[name] = text(name)
        if len(answers[name]) > limit:
            errors[name] = FieldError(N_("Write at most %(limit)s characters."), {"limit": limit})
        elif not answers[name] and (name == "title" or (required and submitting)):
            errors[name] = FieldError(N_("This answer is required."), {})
    for name, allowed, required in CHOICE_FIELDS:
        answers[name] = text(name)
        missing = not answers[name] and required and submitting
        if missing or (answers[name] and answers[name] not in allowed):
            errors[name] = FieldError(N_("Choose one of the options."), {})
    if answers["contact_email"] and not is_email(answers["contact_email"]):
        errors["contact_email"] = FieldError(
            N_("Give an e-mail address such as name@kommune.no."), {}
        )
    answers["roadmap_phase"] = text("roadmap_phase")
    if answers["roadmap_phase"] not in ("", *(o.value for o in ROADMAP_PHASES)):
        errors["roadmap_phase"] = FieldError(N_("Choose one of the options."), {})
    for name, options in (("goals", GOALS), ("life_events", LIFE_EVENTS)):
        known = {o.value for o in options}
        picked = [v for v in dict.fromkeys(many(name)) if v]
        answers[name] = [v for v in picked if v in known]
        if len(answers[name]) != len(picked):
            errors[name] = FieldError(N_("Choose among the options shown."), {})
    if submitting and not answers["goals"] and "goals" not in errors:
        errors["goals"] = FieldError(N_("Choose at least one goal."), {})
    answers["owner"] = text("owner")
    if answers["owner"]:
        try:
            owner = parse_owner(answers["owner"], answers["company_name"])
            check_owner(owner, directory)
        except Ineligible:
            if answers["company_name"] and answers["owner"].split(":")[0] in ("n", "k"):
                errors["company_name"] = FieldError(
                    N_("A company must be owned by a municipality or a county municipality."),
                    {},
                )
            else:
                errors["owner"] = FieldError(N_("Choose an idea owner from the list."), {})
    elif submitting:
        errors["owner"] = FieldError(N_("Choose an idea owner from the list."), {})
    return answers, {name: errors[name] for name in FORM_ORDER if name in errors}


def owner_choices(directory: Directory) -> list[tuple[str, list[Option]]]:
    """The select's option groups: municipalities, county municipalities, networks."""
    municipalities = [
        Option(f"m:{m.number}", " / ".join(dict.fromkeys((m.name, *m.official_names)))
               + f" ({m.number})")
        for m in sorted(directory.municipalities.values(), key=lambda m: m.name)
    ]  # fmt: skip
    counties = [Option(f"c:{c.number}", f"{c.name} fylkeskommune ({c.number})")
                for c in sorted(directory.counties.values(), key=lambda c: c.name)]  # fmt: skip
    networks = [
        Option(f"k:{n.id}" if n.id == COLLEGE_ID else f"n:{n.id}", n.name)
        for n in sorted(directory.networks.values(), key=lambda n: n.name)
    ]
    return [
        (N_("Municipalities"), municipalities),
        (N_("County municipalities"), counties),
        (N_("Networks and the college"), networks),
    ]
