"""The idea form: what a draft and a submission need, and who may own an idea."""

from __future__ import annotations

import pytest

from live.contest.ideas import (
    FORM_ORDER,
    GOALS,
    LIFE_EVENTS,
    OPTION_MSGIDS,
    ROADMAP_PHASES,
    check_idea,
    owner_choices,
    owner_label,
    owner_value,
    parse_owner,
)
from live.contest.organisations import COLLEGE_ID, Directory
from live.contest.routing import IdeaOwner, Ineligible, OwnerKind
from tests.support.contest import REQUIRED, idea_form

DIRECTORY = Directory.shipped()


def errors_of(form: dict[str, str | list[str]], *, submitting: bool = True) -> set[str]:
    return set(check_idea(form, DIRECTORY, submitting=submitting)[1])


def test_a_complete_form_is_clean() -> None:
    answers, errors = check_idea(idea_form(), DIRECTORY, submitting=True)
    assert errors == {}
    assert answers["title"] == "Felles chatbot for byggesak"
    assert answers["owner"] == "m:1103" and answers["novelty"] == "scale_up"
    assert answers["goals"] == ["2", "4"]
    assert answers["life_events"] == ["start-and-run-a-business"]
    assert answers["roadmap_phase"] == "2"


def test_the_shipped_options_are_the_strategys() -> None:
    assert [o.value for o in GOALS] == ["1", "2", "3", "4", "5", "6"]
    assert len(LIFE_EVENTS) == 7 and len(ROADMAP_PHASES) == 6
    assert all(o.text for o in (*GOALS, *LIFE_EVENTS, *ROADMAP_PHASES))


def test_a_draft_needs_only_a_title() -> None:
    answers, errors = check_idea({"title": " Idé "}, DIRECTORY, submitting=False)
    assert errors == {} and answers["title"] == "Idé"
    assert answers["goals"] == [] and answers["owner"] == ""
    assert errors_of({}, submitting=False) == {"title"}
    assert errors_of({"title": "   "}, submitting=False) == {"title"}


def test_an_empty_submission_names_every_required_field() -> None:
    _, errors = check_idea({}, DIRECTORY, submitting=True)
    assert set(errors) == set(REQUIRED)
    assert errors["title"].message == "This answer is required."
    assert errors["novelty"].message == "Choose one of the options."
    assert errors["goals"].message == "Choose at least one goal."
    assert errors["owner"].message == "Choose an idea owner from the list."


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_each_required_answer_is_required_to_submit(name: str) -> None:
    form = idea_form()
    form[name] = [] if name == "goals" else ""
    assert errors_of(form) == {name}
    assert errors_of(form, submitting=False) == ({"title"} if name == "title" else set())


@pytest.mark.parametrize(
    "name", ["company_name", "partners", "contact_phone", "roadmap_phase", "life_events"]
)
def test_optional_answers_may_be_left_out(name: str) -> None:
    form = idea_form()
    del form[name]
    assert errors_of(form) == set()


@pytest.mark.parametrize(
    ("name", "limit"),
    [
        ("title", 120),
        ("contact_phone", 40),
        ("contact_name", 200),
        ("need", 4000),
        ("partners", 4000),
    ],
)
def test_over_long_text_is_refused_with_its_limit(name: str, limit: int) -> None:
    _, errors = check_idea(idea_form(**{name: "x" * limit}), DIRECTORY, submitting=True)
    assert name not in errors
    _, errors = check_idea(idea_form(**{name: "x" * (limit + 1)}), DIRECTORY, submitting=False)
    assert set(errors) == {name}
    assert errors[name].message == "Write at most %(limit)s characters."
    assert errors[name].params == {"limit": limit}


def test_text_is_trimmed_and_line_ends_normalised() -> None:
    answers, _ = check_idea(idea_form(need="  a\r\nb  "), DIRECTORY, submitting=True)
    assert answers["need"] == "a\nb"


@pytest.mark.parametrize(
    "email", ["kari", "kari@kommune", "kari @kommune.no", "@kommune.no", "kari@@kommune.no"]
)
def test_a_bad_email_is_refused(email: str) -> None:
    _, errors = check_idea(idea_form(contact_email=email), DIRECTORY, submitting=False)
    assert set(errors) == {"contact_email"}
    assert "e-mail" in errors["contact_email"].message


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"goals": ["2", "7"]}, "goals"),
        ({"goals": "seven"}, "goals"),
        ({"life_events": ["have-a-child", "win-the-lottery"]}, "life_events"),
        ({"roadmap_phase": "7"}, "roadmap_phase"),
        ({"novelty": "brand_new"}, "novelty"),
        ({"criticality_level": "extreme"}, "criticality_level"),
    ],
)
def test_unknown_option_values_are_refused(fields: dict[str, str | list[str]], field: str) -> None:
    form = idea_form(**fields)
    assert errors_of(form) == {field}
    assert errors_of(form, submitting=False) == {field}


def test_known_choices_are_kept_once_in_order() -> None:
    answers, errors = check_idea(
        idea_form(goals=["4", "1", "4", ""], life_events="new-in-norway"),
        DIRECTORY,
        submitting=True,
    )
    assert errors == {}
    assert answers["goals"] == ["4", "1"] and answers["life_events"] == ["new-in-norway"]
    answers, _ = check_idea(idea_form(goals=["1", "99"]), DIRECTORY, submitting=True)
    assert answers["goals"] == ["1"]


@pytest.mark.parametrize(
    ("value", "company", "owner"),
    [
        ("m:1103", "", IdeaOwner(OwnerKind.MUNICIPALITY, "1103")),
        ("c:11", "", IdeaOwner(OwnerKind.COUNTY_MUNICIPALITY, "11")),
        ("n:digi-rogaland", "", IdeaOwner(OwnerKind.NETWORK, "digi-rogaland")),
        ("k:kollegiet", "", IdeaOwner(OwnerKind.COLLEGE, COLLEGE_ID)),
        ("m:1103", " IKT AS ", IdeaOwner(OwnerKind.MUNICIPAL_COMPANY, "1103", "IKT AS")),
        ("c:50", "Buss AS", IdeaOwner(OwnerKind.COUNTY_COMPANY, "50", "Buss AS")),
    ],
)
def test_owner_values_parse(value: str, company: str, owner: IdeaOwner) -> None:
    assert parse_owner(value, company) == owner
    assert owner_value(owner) == value
    _, errors = check_idea(idea_form(owner=value, company_name=company), DIRECTORY, submitting=True)
    assert errors == {}


@pytest.mark.parametrize(
    ("value", "company"), [("x:1103", ""), ("m:", ""), ("1103", ""), ("n:digi", "IKT AS")]
)
def test_malformed_owner_values_are_ineligible(value: str, company: str) -> None:
    with pytest.raises(Ineligible):
        parse_owner(value, company)


def test_a_company_with_a_municipality_owner_is_a_municipal_company() -> None:
    answers, errors = check_idea(
        idea_form(owner="m:1103", company_name="Stavanger IKT AS"), DIRECTORY, submitting=True
    )
    assert errors == {}
    owner = parse_owner(answers["owner"], answers["company_name"])
    assert owner.kind is OwnerKind.MUNICIPAL_COMPANY and owner.company_name == "Stavanger IKT AS"


@pytest.mark.parametrize("owner", ["n:digi-rogaland", "k:kollegiet"])
def test_a_company_cannot_be_owned_by_a_network(owner: str) -> None:
    _, errors = check_idea(
        idea_form(owner=owner, company_name="Digi AS"), DIRECTORY, submitting=False
    )
    assert set(errors) == {"company_name"}
    assert "municipality" in errors["company_name"].message


@pytest.mark.parametrize(
    "owner", ["m:9999", "m:11", "c:99", "n:kollegiet", "n:digi-nowhere", "k:digi-rogaland", "q:1"]
)
def test_an_unknown_owner_is_an_owner_error(owner: str) -> None:
    assert errors_of(idea_form(owner=owner)) == {"owner"}
    assert errors_of(idea_form(owner=owner), submitting=False) == {"owner"}


@pytest.mark.parametrize(
    ("owner", "label"),
    [
        (IdeaOwner(OwnerKind.MUNICIPALITY, "1103"), "Stavanger kommune"),
        (IdeaOwner(OwnerKind.MUNICIPAL_COMPANY, "1103", "IKT AS"), "IKT AS (Stavanger kommune)"),
        (IdeaOwner(OwnerKind.COUNTY_MUNICIPALITY, "11"), "Rogaland fylkeskommune"),
        (IdeaOwner(OwnerKind.COUNTY_COMPANY, "50", "Bus"), "Bus (Trøndelag fylkeskommune)"),
        (IdeaOwner(OwnerKind.NETWORK, "digi-rogaland"), "Digi Rogaland"),
        (IdeaOwner(OwnerKind.COLLEGE, COLLEGE_ID), "Kollegiet for HR og IKT/digitalisering"),
        (IdeaOwner(OwnerKind.MUNICIPALITY, "9999"), "9999"),
    ],
)
def test_owner_label(owner: IdeaOwner, label: str) -> None:
    assert owner_label(owner, DIRECTORY) == label


def test_owner_choices_offer_every_eligible_owner() -> None:
    groups = dict(owner_choices(DIRECTORY))
    assert list(groups) == ["Municipalities", "County municipalities", "Networks and the college"]
    municipalities = groups["Municipalities"]
    assert len(municipalities) == 356
    assert len({o.value for o in municipalities}) == 356
    by_value = {o.value: o.text for group in groups.values() for o in group}
    assert by_value["m:1103"] == "Stavanger (1103)"
    assert by_value["m:5430"] == "Kautokeino / Guovdageaidnu (5430)"
    assert by_value["c:11"] == "Rogaland fylkeskommune (11)"
    assert by_value["k:kollegiet"] == "Kollegiet for HR og IKT/digitalisering"
    assert len(groups["County municipalities"]) == 11
    assert len(groups["Networks and the college"]) == 11
    for group in groups.values():
        for option in group:
            _, errors = check_idea(idea_form(owner=option.value), DIRECTORY, submitting=True)
            assert errors == {}, option


def test_problems_come_in_the_order_the_form_shows_its_fields() -> None:
    _, errors = check_idea({}, Directory.shipped(), submitting=True)
    assert list(errors) == [name for name in FORM_ORDER if name in errors]
    assert list(errors)[:2] == ["title", "owner"]


def test_every_shipped_option_has_a_catalogue_entry() -> None:
    for kind, options in (("goal", GOALS), ("life_event", LIFE_EVENTS), ("phase", ROADMAP_PHASES)):
        for option in options:
            assert f"{kind}:{option.value}" in OPTION_MSGIDS, (kind, option)
