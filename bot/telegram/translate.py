"""Pure translation between Telegram objects and the channel-neutral messages.

Nothing here performs I/O: downloading files and sending messages live in `adapter.py`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from telegram import (
    Bot,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.constants import ChatMemberStatus, ChatType, FileSizeLimit, MessageLimit

from bot.messages import (
    KIND_DOCUMENT,
    KIND_LOCATION,
    KIND_PHOTO,
    KIND_START,
    KIND_STICKER,
    KIND_TEXT,
    KIND_UNSUPPORTED,
    KIND_VIDEO,
    KIND_VOICE,
    Button,
    Inbound,
    InboundAttachment,
    Outbound,
)
from domain.vocabulary import Channel

#: Telegram lets a bot download files up to 20 MB through the public Bot API.
DOWNLOAD_LIMIT = FileSizeLimit.FILESIZE_DOWNLOAD

#: Commands that mean « help »; the engine receives them as the word the teacher would type.
HELP_COMMANDS = frozenset({"aide", "help"})

#: What PTB's `de_json` and attribute access raise on a payload of the wrong shape: a date out
#: of range, an int where an object is expected, a field required by a newer Bot API.
MALFORMED_ERRORS: tuple[type[Exception], ...] = (TypeError, ValueError, KeyError, AttributeError, OverflowError)


class MalformedUpdate(ValueError):
    """A stored update that cannot be read as one: no retry can fix it, it is quarantined."""


_COMMAND = re.compile(r"^/(?P<name>[A-Za-z0-9_]+)(?:@(?P<bot>[A-Za-z0-9_]+))?(?:\s+(?P<arg>.*))?$", re.S)


@dataclass(frozen=True, slots=True)
class FileRef:
    """A file the teacher sent, before download: what to fetch and what to call it."""

    file_id: str
    filename: str
    content_type: str
    size: int

    @property
    def too_large(self) -> bool:
        return self.size > DOWNLOAD_LIMIT


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    """What an update carries for the dialogue, before files are downloaded."""

    chat_id: int
    chat_is_group: bool
    inbound: Inbound
    files: tuple[FileRef, ...] = ()
    callback_query_id: str | None = None
    #: The Telegram message the pressed button belongs to (to remove its keyboard).
    callback_message_id: int | None = None


def message_key(chat_id: int, message_id: int) -> str:
    """The `Inbound.message_id` of a Telegram message: unique per chat, so chat-qualified."""
    return f"{chat_id}:{message_id}"


def update_key(update_id: int) -> str:
    """The `InboundMessage.external_id` of a raw update (webhook retries share it)."""
    return f"update:{update_id}"


def is_group(chat_type: str) -> bool:
    return chat_type != ChatType.PRIVATE


def display_name(message: Message | CallbackQuery) -> str | None:
    user = message.from_user
    if user is None:
        return None
    return user.full_name or user.username


def _kind_and_files(message: Message) -> tuple[str, tuple[FileRef, ...]]:
    """The inbound kind of a message and the files to download for it."""
    if message.photo:
        largest = max(message.photo, key=lambda p: (p.file_size or 0, p.width * p.height))
        ref = FileRef(
            file_id=largest.file_id,
            filename=f"photo-{message.message_id}.jpg",
            content_type="image/jpeg",
            size=largest.file_size or 0,
        )
        return KIND_PHOTO, (ref,)
    if message.sticker:
        return KIND_STICKER, ()
    if message.voice or message.audio:
        return KIND_VOICE, ()
    if message.video or message.video_note or message.animation:
        return KIND_VIDEO, ()
    if message.location or message.venue:
        return KIND_LOCATION, ()
    if message.document:
        doc = message.document
        ref = FileRef(
            file_id=doc.file_id,
            filename=doc.file_name or f"document-{message.message_id}",
            content_type=doc.mime_type or "application/octet-stream",
            size=doc.file_size or 0,
        )
        return KIND_DOCUMENT, (ref,)
    if message.text is not None:
        return KIND_TEXT, ()
    return KIND_UNSUPPORTED, ()


def translate_message(message: Message, *, edited: bool = False) -> IncomingMessage:
    """A message (or an edited one) as the engine sees it; files still to download."""
    chat = message.chat
    sender = message.from_user.id if message.from_user else chat.id
    _check_ids(chat_id=chat.id, message_id=message.message_id, sender_id=sender)
    kind, files = _kind_and_files(message)
    text = message.text if message.text is not None else message.caption
    start_payload: str | None = None
    if kind == KIND_TEXT and text:
        command = _COMMAND.match(text.strip())
        if command:
            name = command["name"].lower()
            arg = (command["arg"] or "").strip() or None
            if name == "start":
                kind, start_payload, text = KIND_START, arg, None
            elif name in HELP_COMMANDS:
                text = "aide" if arg is None else f"aide {arg}"
    key = message_key(chat.id, message.message_id)
    if edited:
        stamp = int(message.edit_date.timestamp()) if message.edit_date else 0
        key = f"{key}:edit:{stamp}"
    inbound = Inbound(
        channel=Channel.TELEGRAM,
        sender_id=str(sender),
        message_id=key,
        text=text,
        kind=kind,
        start_payload=start_payload,
        display_name=display_name(message),
        edited=edited,
        chat_is_group=is_group(chat.type),
        reply_to=str(chat.id),
    )
    return IncomingMessage(
        chat_id=chat.id, chat_is_group=inbound.chat_is_group, inbound=inbound, files=files
    )


def translate_callback(query: CallbackQuery) -> IncomingMessage | None:
    """A button press; None when it cannot be tied to a chat (inline-mode or inaccessible)."""
    if query.message is None:
        return None
    chat = query.message.chat
    _check_ids(chat_id=chat.id, message_id=query.message.message_id, sender_id=query.from_user.id)
    data = query.data if isinstance(query.data, str) else None
    inbound = Inbound(
        channel=Channel.TELEGRAM,
        sender_id=str(query.from_user.id),
        message_id=f"callback:{query.id}",
        button=data or None,
        kind="button",
        display_name=display_name(query),
        chat_is_group=is_group(chat.type),
        reply_to=str(chat.id),
    )
    return IncomingMessage(
        chat_id=chat.id,
        chat_is_group=inbound.chat_is_group,
        inbound=inbound,
        callback_query_id=query.id,
        callback_message_id=query.message.message_id,
    )


def parse_update(data: dict[str, Any], bot: Bot) -> Update:
    """The raw update as PTB's object; MalformedUpdate when its fields cannot make one."""
    try:
        # A lone surrogate (\ud800) parses as JSON but is no text: it could not be sent back.
        json.dumps(data, ensure_ascii=False).encode()
        update = Update.de_json(data, bot)
    except MALFORMED_ERRORS as exc:
        raise MalformedUpdate(f"{type(exc).__name__}: {exc}") from exc
    if update is None:
        raise MalformedUpdate("empty update")
    return update


def _check_ids(**ids: object) -> None:
    """PTB keeps scalars as sent: an id that is not an int would reach SQL and the Bot API."""
    for name, value in ids.items():
        if not isinstance(value, int) or isinstance(value, bool):
            raise MalformedUpdate(f"{name} is {type(value).__name__}, not int")


def _translate(update: Update) -> IncomingMessage | None:
    if update.message is not None:
        return translate_message(update.message)
    if update.edited_message is not None:
        return translate_message(update.edited_message, edited=True)
    if update.callback_query is not None:
        return translate_callback(update.callback_query)
    return None


def translate_update(update: Update) -> IncomingMessage | None:
    """The dialogue-relevant content of an update, or None for updates the desk ignores;
    MalformedUpdate when a field has the wrong type (a text that is a number, a chat id string)."""
    try:
        incoming = _translate(update)
    except MALFORMED_ERRORS as exc:
        if isinstance(exc, MalformedUpdate):
            raise
        raise MalformedUpdate(f"{type(exc).__name__}: {exc}") from exc
    if incoming is not None:
        _check_ids(chat_id=incoming.chat_id)
        if incoming.inbound.text is not None and not isinstance(incoming.inbound.text, str):
            raise MalformedUpdate(f"text is {type(incoming.inbound.text).__name__}, not str")
    return incoming


@dataclass(frozen=True, slots=True)
class Membership:
    """A person blocking or unblocking the bot in a private chat."""

    chat_id: int
    blocked: bool


def membership_change(update: Update) -> Membership | None:
    """The private chat whose member status changed, or None (a group, no change of ours);
    MalformedUpdate when the change's fields have the wrong types."""
    member = update.my_chat_member
    if member is None:
        return None
    try:
        if member.chat.type != ChatType.PRIVATE:
            return None
        chat_id, status = member.chat.id, member.new_chat_member.status
    except MALFORMED_ERRORS as exc:
        raise MalformedUpdate(f"{type(exc).__name__}: {exc}") from exc
    _check_ids(chat_id=chat_id)
    return Membership(chat_id=chat_id, blocked=status in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT))


def with_attachments(incoming: IncomingMessage, attachments: tuple[InboundAttachment, ...]) -> Inbound:
    """The inbound with its downloaded (or refused) files attached."""
    old = incoming.inbound
    return Inbound(
        channel=old.channel, sender_id=old.sender_id, message_id=old.message_id, text=old.text,
        button=old.button, kind=old.kind, start_payload=old.start_payload,
        attachments=attachments, display_name=old.display_name, edited=old.edited,
        chat_is_group=old.chat_is_group, reply_to=old.reply_to,
    )


# --- outbound ---------------------------------------------------------------------------


def _url_button_ok(url: str) -> bool:
    """Telegram refuses URL buttons to plain http, localhost or bare IPs: those become text."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme != "https" or not host or host == "localhost":
        return False
    return not re.fullmatch(r"[\d.]+|\[?[0-9a-fA-F:]+\]?", host)


@dataclass(frozen=True, slots=True)
class Rendered:
    """One sendMessage call: the text and its inline keyboard (None for none)."""

    text: str
    keyboard: InlineKeyboardMarkup | None


def keyboard_of(buttons: tuple[Button, ...], url_links: list[tuple[str, str]]) -> InlineKeyboardMarkup | None:
    rows = [[InlineKeyboardButton(b.label, callback_data=b.payload)] for b in buttons]
    rows += [[InlineKeyboardButton(label, url=url)] for label, url in url_links]
    return InlineKeyboardMarkup(rows) if rows else None


def _split(text: str, limit: int) -> list[str]:
    """Cut a long text at paragraph or line breaks into pieces Telegram accepts."""
    pieces: list[str] = []
    while len(text) > limit:
        cut = max(text.rfind("\n\n", 0, limit), text.rfind("\n", 0, limit))
        if cut <= 0:
            cut = text.rfind(" ", 0, limit)
        if cut <= 0:
            cut = limit
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    pieces.append(text)
    return pieces


def render(outbound: Outbound) -> list[Rendered]:
    """One outbound message as sendMessage calls; the keyboard rides on the last one."""
    url_links = [(link.label, link.url) for link in outbound.links if _url_button_ok(link.url)]
    text_links = [f"{link.label} : {link.url}" for link in outbound.links if not _url_button_ok(link.url)]
    text = outbound.text
    if text_links:
        text = "\n".join([text, "", *text_links]) if text else "\n".join(text_links)
    pieces = _split(text or "…", MessageLimit.MAX_TEXT_LENGTH)
    keyboard = keyboard_of(outbound.buttons, url_links)
    return [Rendered(p, keyboard if i == len(pieces) - 1 else None) for i, p in enumerate(pieces)]
