"""The audit log in plain words: what was done, and to what, by name instead of by code.

The store keeps actions as codes ("poll.open") and subjects as references
("sheet:2027:4:3"); the CSV export and the API keep them so. People read
"Opened the poll" and "Jury sheet of kari@ks.no for Digital postkasse". `Names` looks
up, once for a page of entries, the names its subjects need."""

from __future__ import annotations

from dataclasses import dataclass, field

from live import i18n
from live.contest.records import Contest, Idea
from live.errors import N_
from live.store import Store
from live.store.models import AuditEntry

ACTIONS = {
    "account.create": N_("Created the account"),
    "account.password": N_("Set a new password (sessions and API tokens ended)"),
    "api_token.create": N_("Made an API token"),
    "api_token.revoke": N_("Revoked an API token"),
    "attachment.add": N_("Attached a file to the idea"),
    "attachment.remove": N_("Removed a file from the idea"),
    "directory.import": N_("Imported municipalities or networks"),
    "edition.create": N_("Created the contest"),
    "edition.update": N_("Changed the contest"),
    "finalists.publish": N_("Published the finalist page"),
    "finalists.select": N_("Chose the finalists"),
    "finalists.unpublish": N_("Took the finalist page down"),
    "finalists.stage_order": N_("Set the finalists' order on the stage"),
    "idea.attachments": N_("Changed the idea's list of files"),
    "idea.erase_contact": N_("Erased the contact details"),
    "idea.reroute": N_("Moved the idea to another network"),
    "idea.save": N_("Saved the idea as a draft"),
    "idea.submit": N_("Submitted the idea"),
    "idea.withdraw": N_("Withdrew the idea"),
    "idea.notice": N_("Told the contact person how the idea stands"),
    "invitation.accept": N_("Accepted the invitation"),
    "invitation.create": N_("Invited a person"),
    "jury.assign": N_("Assigned jury members to nominees"),
    "jury.conflict": N_("Declared a conflict of interest"),
    "jury.language": N_("Noted the jury member's language"),
    "jury.override": N_("Decided on a conflict of interest from the member's own network"),
    "jury.remind": N_("Asked for a reminder to a jury member"),
    "jury.remind_result": N_("Sent a reminder to a jury member, or could not"),
    "jury.score": N_("Saved scores"),
    "jury.start": N_("The jury began scoring, which fixed the criteria"),
    "nomination.add": N_("Nominated an idea"),
    "nomination.withdraw": N_("Withdrew a nomination"),
    "poll.badge_revoke": N_("Revoked a badge"),
    "poll.badges": N_("Made badges"),
    "poll.close": N_("Closed the poll"),
    "poll.countdown": N_("Started a countdown to closing"),
    "poll.create": N_("Created the poll"),
    "poll.exclude": N_("Excluded flagged ballots"),
    "poll.expected_voters": N_("Set the expected number of voters"),
    "poll.hide": N_("Hid the running count"),
    "poll.open": N_("Opened the poll"),
    "poll.results": N_("Showed or hid the results"),
    "poll.reveal": N_("Revealed places on the stage"),
    "poll.show": N_("Showed the running count"),
    "poll.tie": N_("Resolved a tie"),
    "poll.token_alert": N_("Alert: one address took voter tokens faster than a hall does"),
    "poll.update": N_("Changed the poll"),
    "privacy.export": N_("Exported what is held about a person"),
    "statement.update": N_("Changed a statement"),
    "theme.update": N_("Changed the stage theme"),
}
_RESULTS_SHOWN = {True: N_("Showed the results"), False: N_("Hid the results")}

# What a subject filter offers: the part of a subject before its first ":".
KINDS = {
    "poll": N_("Finale polls"),
    "edition": N_("Contests"),
    "idea": N_("Ideas"),
    "attachment": N_("Files attached to ideas"),
    "idea-attachments": N_("Lists of files attached to ideas"),
    "nominations": N_("Nominations"),
    "sheet": N_("Jury sheets"),
    "scoring": N_("Jury scoring"),
    "finalists": N_("Finalists"),
    "user": N_("Accounts"),
    "invitation": N_("Invitations"),
    "api_token": N_("API tokens"),
    "theme": N_("Stage theme"),
    "directory": N_("Municipalities and networks"),
    "jury-assignment": N_("Jury assignments"),
    "jury-reminder": N_("Jury reminders"),
    "idea-notice": N_("News to contact persons"),
    "token-alerts": N_("Voter token alerts"),
    "statement": N_("Statements"),
    "privacy": N_("Personal data"),
}


def action_words(entry: AuditEntry) -> str:
    """What an entry records, in the reader's language; an unknown code as it is."""
    if entry.action == "poll.results" and isinstance(entry.after, dict):
        shown = entry.after.get("shown")
        if isinstance(shown, bool):
            return i18n.gettext(_RESULTS_SHOWN[shown])
    msgid = ACTIONS.get(entry.action)
    if msgid is None:
        return i18n.gettext("Other change (%(code)s)", code=entry.action)
    return i18n.gettext(msgid)


def matches(entry: AuditEntry, subject: str, who: str) -> bool:
    """Whether an entry passes the filter: `subject` a kind ("poll") or one subject
    ("poll:12"), `who` part of the actor's address; empty passes everything."""
    if subject and entry.subject != subject and not entry.subject.startswith(subject + ":"):
        return False
    return not who or who.casefold() in entry.actor.casefold()


def _data_text(entry: AuditEntry, key: str) -> str:
    for data in (entry.after, entry.before):
        if isinstance(data, dict) and isinstance(data.get(key), str):
            return str(data[key])
    return ""


@dataclass
class Names:
    """Names for the subjects of some audit entries, looked up once."""

    polls: dict[str, str] = field(default_factory=dict)
    ideas: dict[str, str] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=dict)
    editions: dict[str, str] = field(default_factory=dict)
    networks: dict[str, str] = field(default_factory=dict)

    @classmethod
    async def load(cls, store: Store, contest: Contest, entries: list[AuditEntry]) -> Names:
        """Read only the kinds of record the entries refer to."""
        kinds = {entry.subject.split(":", 1)[0] for entry in entries}
        names = cls()
        if "poll" in kinds:
            names.polls = {str(p.id): p.title for p in await store.list_polls()}
        if kinds & {"token-alerts"}:
            names.polls = {str(p.id): p.title for p in await store.list_polls()}
        if kinds & {"idea", "sheet", "idea-notice"}:
            ideas = [Idea.from_record(r) for r in await store.list_records("idea")]
            names.ideas = {str(i.id): i.title for i in ideas}
        if kinds & {"user", "sheet", "api_token", "jury-reminder", "jury-member"}:
            names.users = {str(u.id): u.email for u in await store.list_users()}
        if kinds & {
            "edition",
            "nominations",
            "finalists",
            "scoring",
            "jury-assignment",
            "jury-reminder",
        }:
            names.editions = {str(e.year): e.title for e in await contest.editions()}
        if "nominations" in kinds:
            networks = (await contest.directory()).networks
            names.networks = {key: network.name for key, network in networks.items()}
        return names

    def subject(self, entry: AuditEntry) -> str:
        """The entry's subject by name in the reader's language; its reference when
        nothing better is known."""
        kind, _, rest = entry.subject.partition(":")
        words = self._words(kind, rest.split(":"), entry)
        return words if words is not None else entry.subject

    def _words(self, kind: str, parts: list[str], entry: AuditEntry) -> str | None:
        gettext, first = i18n.gettext, parts[0]
        edition = self.editions.get(first, first)
        if kind == "poll":
            return self.polls.get(first) or gettext("Poll number %(number)s", number=first)
        if kind == "idea":
            return self._idea(first)
        if kind == "user":
            return self.users.get(first) or _data_text(entry, "email") or None
        if kind == "edition":
            return edition
        if kind == "finalists":
            return gettext("Finalists of %(edition)s", edition=edition)
        if kind == "scoring":
            return gettext("Jury scoring of %(edition)s", edition=edition)
        if kind == "nominations" and len(parts) == 2:
            network = self.networks.get(parts[1], parts[1])
            return gettext(
                "Nominations of %(network)s, %(edition)s", network=network, edition=edition
            )
        if kind == "sheet" and len(parts) == 3:
            member = self.users.get(parts[2]) or _data_text(entry, "member") or "–"
            return gettext(
                "Jury sheet of %(member)s for %(idea)s", member=member, idea=self._idea(parts[1])
            )
        if kind == "invitation" and _data_text(entry, "email"):
            return gettext("Invitation for %(email)s", email=_data_text(entry, "email"))
        if kind == "api_token" and _data_text(entry, "name"):
            return gettext(
                "API token “%(name)s” of %(email)s",
                name=_data_text(entry, "name"),
                email=self._token_owner(entry),
            )
        if kind == "idea-notice":
            return gettext("News to the contact person of %(idea)s", idea=self._idea(first))
        if kind == "token-alerts":
            poll = self.polls.get(first) or gettext("Poll number %(number)s", number=first)
            return gettext("Voter token alerts in %(poll)s", poll=poll)
        if kind == "jury-assignment":
            return gettext("Jury assignments of %(edition)s", edition=edition)
        if kind == "jury-reminder" and len(parts) == 2:
            member = self.users.get(parts[1], parts[1])
            return gettext("Reminders to %(member)s, %(edition)s", member=member, edition=edition)
        if kind == "jury-member":
            return gettext("Jury member %(member)s", member=self.users.get(first, first))
        if kind == "statement" and first == "privacy":
            return gettext("The privacy statement")
        if kind == "statement" and first == "accessibility":
            return gettext("The accessibility statement")
        if kind == "theme":
            return gettext("The stage theme")
        if kind == "directory":
            return gettext("The municipalities and networks")
        return None

    def _idea(self, key: str) -> str:
        return self.ideas.get(key) or i18n.gettext("Idea number %(number)s", number=key)

    def _token_owner(self, entry: AuditEntry) -> str:
        for data in (entry.after, entry.before):
            if isinstance(data, dict) and "user_id" in data:
                return self.users.get(str(data["user_id"]), "–")
        return "–"
