"""Mail, only when LIVE_SMTP_URL is set: invitations, and news for an idea's sender.

Nothing depends on mail arriving; the invitation link is always shown to the organiser
to copy, and an idea's private link and state to its sender. A failed send is logged
and reported, never an error page.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from live import i18n
from live.config import Settings
from live.errors import N_

log = logging.getLogger("live.mail")
TIMEOUT_SECONDS = 10


def _send(url: str, message: EmailMessage) -> None:
    parts = urlsplit(url)
    host, secure = parts.hostname or "localhost", parts.scheme == "smtps"
    port = parts.port or (465 if secure else 25)
    smtp_class = smtplib.SMTP_SSL if secure else smtplib.SMTP
    with smtp_class(host, port, timeout=TIMEOUT_SECONDS) as smtp:
        if not secure and smtp.has_extn("starttls"):
            smtp.starttls(context=ssl.create_default_context())
        if parts.username:
            smtp.login(unquote(parts.username), unquote(parts.password or ""))
        smtp.send_message(message)


async def send_mail(settings: Settings, to: str, subject: str, body: str) -> bool:
    """Mail a plain-text message; True if the mail server took it. False, logged and never
    raised, when mail is off or the server refused or could not be reached."""
    if settings.smtp_url is None:
        return False
    try:
        message = EmailMessage()
        message["From"] = settings.mail_from
        message["To"] = to
        message["Subject"] = " ".join(subject.split())  # one line, whatever a title holds
        message.set_content(body)
        await asyncio.to_thread(_send, settings.smtp_url.reveal(), message)
    except (OSError, smtplib.SMTPException, ValueError) as error:
        log.warning("mail %r to %s failed: %s", subject, to, error)
        return False
    return True


async def send_invitation(settings: Settings, to: str, link: str) -> bool:
    """Mail an invitation link; True if the mail server took it."""
    return await send_mail(
        settings,
        to,
        i18n.gettext(N_("Your invitation to the KS idea competition")),
        i18n.gettext(
            N_(
                "You have been invited to take part in running the KS idea competition.\n\n"
                "Open this link to choose your password (it works once, for 7 days):\n%(link)s\n"
            ),
            link=link,
        ),
    )


async def send_jury_reminder(
    settings: Settings,
    to: str,
    language: str,
    *,
    edition: str,
    deadline: str,
    missing: list[str],
    link: str,
) -> bool:
    """Remind a jury member, in `language` (bokmål if unknown), of the nominees they have
    not scored yet; True if the mail server took it."""
    catalogue = i18n.load_catalogues()[
        language if language in i18n.LANGUAGES else i18n.DEFAULT_LANGUAGE
    ]
    subject = catalogue.gettext(N_("Reminder: your jury scores for %(edition)s"))
    body = catalogue.gettext(
        N_(
            "The jury's deadline for %(edition)s is %(deadline)s (Norwegian time).\n\n"
            "You have not scored these nominees yet:\n%(missing)s\n\n"
            "Score them here:\n%(link)s\n"
        )
    )
    listed = "\n".join(f"- {title}" for title in missing)
    return await send_mail(
        settings,
        to,
        subject % {"edition": edition},
        body % {"edition": edition, "deadline": deadline, "missing": listed, "link": link},
    )
