"""A complete, valid idea form (as the browser posts it), for contest tests."""

from __future__ import annotations

# What a submission must answer: the server names each of these when all are missing.
REQUIRED_TEXTS = (
    "title", "contact_name", "contact_email", "need", "benefit_quantitative",
    "benefit_qualitative", "goals_text", "execution_risk_text", "benefit_risk_text",
    "criticality_text",
)  # fmt: skip
REQUIRED_CHOICES = ("execution_risk_level", "benefit_risk_level", "criticality_level", "novelty")
REQUIRED = (*REQUIRED_TEXTS, *REQUIRED_CHOICES, "goals", "owner")


def idea_form(
    title: str = "Felles chatbot for byggesak", owner: str = "m:1103", **fields: str | list[str]
) -> dict[str, str | list[str]]:
    """Every answer the call asks for, filled in; `fields` replace or add answers."""
    form: dict[str, str | list[str]] = {
        "title": title,
        "owner": owner,
        "company_name": "",
        "partners": "Sandnes kommune",
        "contact_name": "Kari Nordmann",
        "contact_email": "kari.nordmann@stavanger.kommune.no",
        "contact_phone": "+47 51 50 70 90",
        "need": "Innbyggerne venter lenge på svar om byggesaker.",
        "benefit_quantitative": "Halvparten færre telefoner til servicetorget.",
        "benefit_qualitative": "Raskere og likere svar.",
        "goals_text": "Sammenhengende tjenester.",
        "execution_risk_text": "Kjent teknologi.",
        "benefit_risk_text": "Krever gode svar i kunnskapsbasen.",
        "criticality_text": "Lav: dagens kanaler finnes fortsatt.",
        "execution_risk_level": "low",
        "benefit_risk_level": "medium",
        "criticality_level": "low",
        "novelty": "scale_up",
        "roadmap_phase": "2",
        "goals": ["2", "4"],
        "life_events": ["start-and-run-a-business"],
    }
    form.update(fields)
    return form
