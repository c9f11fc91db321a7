"""The channel-neutral messages exchanged between channel adapters and the dialogue engine.

Adapters (Telegram, web chat, e-mail) translate their wire format into an `Inbound`, hand
it to `DialogueEngine.handle`, and render the returned `Outbound` list. They decide
nothing; the engine never sees a channel's wire format.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.french import typography
from domain.vocabulary import Channel

#: Telegram limits `callback_data` to 64 bytes: every button payload must fit.
MAX_PAYLOAD_BYTES = 64

#: Values of `Inbound.kind`.
KIND_TEXT = "text"
KIND_BUTTON = "button"
KIND_START = "start"
KIND_PHOTO = "photo"
KIND_DOCUMENT = "document"
KIND_STICKER = "sticker"
KIND_VOICE = "voice"
KIND_LOCATION = "location"
KIND_VIDEO = "video"
KIND_UNSUPPORTED = "unsupported"

INBOUND_KINDS: frozenset[str] = frozenset(
    {
        KIND_TEXT,
        KIND_BUTTON,
        KIND_START,
        KIND_PHOTO,
        KIND_DOCUMENT,
        KIND_STICKER,
        KIND_VOICE,
        KIND_LOCATION,
        KIND_VIDEO,
        KIND_UNSUPPORTED,
    }
)


@dataclass(frozen=True, slots=True)
class InboundAttachment:
    """A file the sender attached (photo, document).

    `data` is None when the adapter did not download it (too large, or unavailable);
    `too_large` tells the engine to ask for a smaller file instead of storing it.
    """

    filename: str
    content_type: str
    data: bytes | None
    size: int
    too_large: bool = False


@dataclass(frozen=True, slots=True)
class Inbound:
    """One message from a sender on a channel.

    `sender_id` is the channel's stable id of the person (Telegram user id, web chat
    session token, e-mail address); `message_id` is unique per channel and is used to
    ignore duplicates (webhook retries, double sends). `button` carries the payload of a
    pressed button (kind "button"); `start_payload` the deep-link parameter of a "start"
    (for example "asset-SEM-004512"). `stored_row` is the inbound_messages row a channel
    already stored the message in (Telegram keeps each raw update before answering its
    webhook): the engine then answers from that row instead of recording a second one.
    `reply_to` is where the channel delivers the answers when it is not `sender_id` (the
    Telegram chat of a group, where the sender is a member).
    """

    channel: Channel
    sender_id: str
    message_id: str
    text: str | None = None
    button: str | None = None
    kind: str = KIND_TEXT
    start_payload: str | None = None
    attachments: tuple[InboundAttachment, ...] = ()
    display_name: str | None = None
    edited: bool = False
    chat_is_group: bool = False
    stored_row: int | None = None
    reply_to: str | None = None

    @property
    def recipient(self) -> str:
        """The channel address the answers go to."""
        return self.reply_to or self.sender_id

    def __post_init__(self) -> None:
        if self.kind not in INBOUND_KINDS:
            raise ValueError(f"unknown inbound kind: {self.kind!r}")
        if not self.sender_id:
            raise ValueError("an inbound message needs a sender_id")
        if not self.message_id:
            raise ValueError("an inbound message needs a message_id")


@dataclass(frozen=True, slots=True)
class Button:
    """A quick-reply button. `payload` is ASCII and at most 64 bytes (Telegram callback_data)."""

    label: str
    payload: str

    def __post_init__(self) -> None:
        if not self.label:
            raise ValueError("a button needs a label")
        if not self.payload.isascii():
            raise ValueError(f"button payload must be ASCII: {self.payload!r}")
        if not 0 < len(self.payload.encode("ascii")) <= MAX_PAYLOAD_BYTES:
            raise ValueError(f"button payload must be 1-{MAX_PAYLOAD_BYTES} bytes: {self.payload!r}")
        object.__setattr__(self, "label", typography(self.label))


@dataclass(frozen=True, slots=True)
class Link:
    """A link shown under a message (for example a tutorial page)."""

    label: str
    url: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "label", typography(self.label))


@dataclass(frozen=True, slots=True)
class Outbound:
    """One bot message: text, optional buttons (one choice each) and links.

    `outbox_id` is the outbox row the dialogue wrote this answer to, in the turn's own
    transaction: the door that delivers it reports the outcome on that row
    (`handlers.notices.settle_replies`), and if the process dies first the outbox dispatcher
    sends it once the row's lease runs out. None for answers said without a turn (an apology
    when the database failed, the flood warning).
    """

    text: str
    buttons: tuple[Button, ...] = field(default=())
    links: tuple[Link, ...] = field(default=())
    outbox_id: int | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        """Every message a teacher reads, on every door, gets French typography (domain.french)."""
        object.__setattr__(self, "text", typography(self.text))

    def to_json(self) -> dict[str, object]:
        """The web chat / JSON form: {"text", "buttons": [{"label","payload"}], "links": [{"label","url"}]}."""
        return {
            "text": self.text,
            "buttons": [{"label": b.label, "payload": b.payload} for b in self.buttons],
            "links": [{"label": link.label, "url": link.url} for link in self.links],
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Outbound:
        """Inverse of `to_json` (used by the outbox, which stores messages as JSON)."""
        buttons = tuple(
            Button(str(b["label"]), str(b["payload"]))
            for b in data.get("buttons") or ()  # type: ignore[union-attr]
        )
        links = tuple(
            Link(str(x["label"]), str(x["url"]))
            for x in data.get("links") or ()  # type: ignore[union-attr]
        )
        return cls(text=str(data.get("text") or ""), buttons=buttons, links=links)
