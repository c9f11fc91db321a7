"""The e-mail channel: SMTP intake, IMAP poller, parsing, threading, loop protection, replies.

Its start-up from settings (SMTP receiver, IMAP poller, threading sender) is wired by
`guichet.channels.email`; the use case itself is `handlers.email_intake`.
"""

from bot.email.imap_poller import ImapConfig, ImapPoller, PollReport
from bot.email.outgoing import TicketThreading
from bot.email.parse import MailParser, external_id
from bot.email.smtp_intake import IntakeHandler, start_smtp_intake
from bot.email.threading import message_id_for

__all__ = [
    "ImapConfig", "ImapPoller", "IntakeHandler", "MailParser", "PollReport", "TicketThreading",
    "external_id", "message_id_for", "start_smtp_intake",
]
