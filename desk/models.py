"""SQLAlchemy 2 models of the system of record."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, validates

from desk.types import UtcDateTime
from domain.impact import Impact

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, datetime: UtcDateTime()}


def _now() -> datetime:
    from desk.clock import utcnow

    return utcnow()


class Territory(Base):
    __tablename__ = "territories"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Paris")


class Organisation(Base):
    __tablename__ = "organisations"
    __table_args__ = (UniqueConstraint("territory_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(ForeignKey("territories.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    slug: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    telegram_chat_id: Mapped[int | None] = mapped_column(BigInteger)


class Commune(Base):
    __tablename__ = "communes"
    __table_args__ = (UniqueConstraint("territory_id", "insee_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(ForeignKey("territories.id", ondelete="CASCADE"))
    insee_code: Mapped[str] = mapped_column(String(5))
    name: Mapped[str] = mapped_column(String(200))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))

    organisation: Mapped[Organisation | None] = relationship()


class School(Base):
    __tablename__ = "schools"

    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(
        ForeignKey("territories.id", ondelete="CASCADE"), index=True
    )
    uai: Mapped[str] = mapped_column(String(8), unique=True)
    name: Mapped[str] = mapped_column(String(250))
    kind: Mapped[str] = mapped_column(String(100), default="Ecole")
    status: Mapped[str] = mapped_column(String(16), default="public")
    commune_id: Mapped[int] = mapped_column(ForeignKey("communes.id"), index=True)
    ogec_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    address: Mapped[str | None] = mapped_column(String(300))
    postal_code: Mapped[str | None] = mapped_column(String(10))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))

    commune: Mapped[Commune] = relationship()
    ogec: Mapped[Organisation | None] = relationship()


class Room(Base):
    __tablename__ = "rooms"
    __table_args__ = (UniqueConstraint("school_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(120))
    level: Mapped[str | None] = mapped_column(String(32))


class Asset(Base):
    __tablename__ = "assets"
    __table_args__ = (UniqueConstraint("territory_id", "tag"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(ForeignKey("territories.id", ondelete="CASCADE"))
    tag: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(32))
    model: Mapped[str | None] = mapped_column(String(200))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), index=True)
    room_id: Mapped[int | None] = mapped_column(ForeignKey("rooms.id"))
    owner: Mapped[str] = mapped_column(String(16), default="sem")
    acquired_on: Mapped[date | None] = mapped_column(Date)
    value_cents: Mapped[int | None] = mapped_column(Integer)
    serial: Mapped[str | None] = mapped_column(String(100))
    #: domain.vocabulary.AssetStatus as recorded (« in repair » is also read from its open tickets).
    status: Mapped[str] = mapped_column(String(16), default="in_service", server_default="in_service")

    school: Mapped[School | None] = relationship()
    room: Mapped[Room | None] = relationship()


class AssetEvent(Base):
    """One line of a device's logbook (« carnet de bord », seed 000): who changed what, when and why.

    Tickets about the device are not copied here: the logbook reads them from the tickets.
    `data` keeps the details before and after a change ({"before": {...}, "after": {...}}).
    """

    __tablename__ = "asset_events"
    __table_args__ = (Index("ix_asset_events_asset_at", "asset_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=_now)
    kind: Mapped[str] = mapped_column(String(32))
    #: `agent`, `requester` or `system`; the name is kept as it was (an agent may leave).
    actor_kind: Mapped[str] = mapped_column(String(16), default="system")
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_name: Mapped[str | None] = mapped_column(String(200))
    channel: Mapped[str | None] = mapped_column(String(16))
    body: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Requester(Base):
    __tablename__ = "requesters"

    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(ForeignKey("territories.id", ondelete="CASCADE"))
    name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32), default="teacher")
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=_now)
    #: When the name and channel identities were erased (retention or the teacher's request).
    anonymised_at: Mapped[datetime | None] = mapped_column()

    school: Mapped[School | None] = relationship()
    identities: Mapped[list[RequesterIdentity]] = relationship(
        back_populates="requester", cascade="all, delete-orphan"
    )


class RequesterIdentity(Base):
    """One way to reach a requester: a Telegram user id, an e-mail address, a web-chat session."""

    __tablename__ = "requester_identities"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    requester_id: Mapped[int] = mapped_column(
        ForeignKey("requesters.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(254))
    unreachable: Mapped[bool] = mapped_column(Boolean, default=False)

    requester: Mapped[Requester] = relationship(back_populates="identities")


class Agent(Base):
    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(16), default="agent")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=_now)
    #: Incremented when the agent signs out: sessions opened before carry an older epoch
    #: and are refused (a saved copy of the cookie no longer works).
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")

    organisation: Mapped[Organisation] = relationship()


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=_now)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class TicketCounter(Base):
    """Last reference number handed out per territory and year."""

    __tablename__ = "ticket_counters"

    territory_id: Mapped[int] = mapped_column(
        ForeignKey("territories.id", ondelete="CASCADE"), primary_key=True
    )
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("territory_id", "reference"),
        Index("ix_tickets_org_status", "organisation_id", "status"),
        Index("ix_tickets_requester_status", "requester_id", "status"),
        Index("ix_tickets_retention", "territory_id", "anonymised_at", "status"),
        # The agents' queue walks these in its order (handlers.agent_queue): one organisation's
        # tickets, or the whole territory's for its readers, by status, priority, then urgency.
        Index("ix_tickets_queue_org", "organisation_id", "territory_id", "status", "priority", "sla_deadline",
              "opened_at", "id"),
        Index("ix_tickets_queue_territory", "territory_id", "status", "priority", "sla_deadline", "opened_at",
              "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(ForeignKey("territories.id", ondelete="CASCADE"))
    reference: Mapped[str] = mapped_column(String(16))
    intent: Mapped[str] = mapped_column(String(32))
    equipment: Mapped[str | None] = mapped_column(String(32))
    #: How many devices of `equipment` the report names (« deux tablettes » → 2).
    quantity: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), index=True)
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("assets.id"), index=True)
    room: Mapped[str | None] = mapped_column(String(120))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    role: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="new")
    priority: Mapped[int] = mapped_column(Integer, default=3)
    channel: Mapped[str] = mapped_column(String(16), default="web")
    requester_id: Mapped[int | None] = mapped_column(ForeignKey("requesters.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), index=True)
    linked_ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    subject: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    sla_policy: Mapped[str | None] = mapped_column(String(32))
    rule_id: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(Text)
    confidence: Mapped[float | None] = mapped_column(Float)
    checklist: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    opened_at: Mapped[datetime] = mapped_column(default=_now)
    updated_at: Mapped[datetime] = mapped_column(default=_now, onupdate=_now)
    resolved_at: Mapped[datetime | None] = mapped_column()
    closed_at: Mapped[datetime | None] = mapped_column()
    #: The capability in the e-mailed rating link (`/avis/<token>`), made when a link is first sent.
    rating_token: Mapped[str | None] = mapped_column(String(43), unique=True, index=True)
    #: When the texts were anonymised (retention or erasure): the figures stay, the words go.
    anonymised_at: Mapped[datetime | None] = mapped_column()
    #: The commitment instant the queue orders by: the earliest unfired target or breach deadline
    #: of the ticket's clock rows (NULL: no clock, or paused). Denormalised from `sla_clocks` by
    #: `desk.sla_store.refresh_queue_deadlines`, which every writer of clock rows calls.
    sla_deadline: Mapped[datetime | None] = mapped_column()

    organisation: Mapped[Organisation] = relationship()
    school: Mapped[School | None] = relationship()
    asset: Mapped[Asset | None] = relationship()
    requester: Mapped[Requester | None] = relationship()
    assignee: Mapped[Agent | None] = relationship()
    events: Mapped[list[TicketEvent]] = relationship(
        back_populates="ticket", order_by="TicketEvent.id", cascade="all, delete-orphan"
    )

    @validates("priority")
    def _known_priority(self, _key: str, value: int) -> int:
        # The queue reads one index range per priority (handlers.agent_queue): an unknown
        # value would never be listed.
        if value not in {int(i) for i in Impact}:
            raise ValueError(f"unknown ticket priority {value!r}")
        return int(value)


class TicketEvent(Base):
    """One line of a ticket's history: message, status change, assignment, re-route, note, clock event."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=_now)
    kind: Mapped[str] = mapped_column(String(32))
    actor_kind: Mapped[str] = mapped_column(String(16), default="system")
    actor_id: Mapped[int | None] = mapped_column(Integer)
    channel: Mapped[str | None] = mapped_column(String(16))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    body: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    internal: Mapped[bool] = mapped_column(Boolean, default=False)

    ticket: Mapped[Ticket] = relationship(back_populates="events")


class ClaimStepRecord(Base):
    """One dated step of a claim file (convention art. 6): recorded by an agent, once per step.

    The claim file is the school authority's declaration ticket of a theft, loss or damage;
    `data` holds what a step carries (the commitment form's amount, payment mode and date).
    """

    __tablename__ = "claim_steps"
    __table_args__ = (UniqueConstraint("ticket_id", "step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    step: Mapped[str] = mapped_column(String(32))
    done_on: Mapped[date] = mapped_column(Date)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    recorded_at: Mapped[datetime] = mapped_column(default=_now)


class ClaimLine(Base):
    """One device of a claim file and what it gives: value, acquisition, refund rate and amount."""

    __tablename__ = "claim_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("assets.id", ondelete="SET NULL"))
    equipment: Mapped[str | None] = mapped_column(String(32))
    acquired_on: Mapped[date | None] = mapped_column(Date)
    value_cents: Mapped[int | None] = mapped_column(Integer)
    rate: Mapped[int | None] = mapped_column(Integer)
    refund_cents: Mapped[int | None] = mapped_column(Integer)
    replaced: Mapped[bool] = mapped_column(Boolean, default=True)
    #: The device SEM installed in its place, its new value and the day (the « état des
    #: équipements installés » of art. 6 is made of these).
    new_tag: Mapped[str | None] = mapped_column(String(32))
    new_value_cents: Mapped[int | None] = mapped_column(Integer)
    installed_on: Mapped[date | None] = mapped_column(Date)

    asset: Mapped[Asset | None] = relationship()


class Attachment(Base):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[int | None] = mapped_column(ForeignKey("ticket_events.id", ondelete="SET NULL"))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(127))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=_now)
    #: When the bytes and the file name were erased (retention or erasure); `size` stays.
    erased_at: Mapped[datetime | None] = mapped_column()


class Conversation(Base):
    """Dialogue state for one channel identity (a Telegram chat, a web-chat session)."""

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(254))
    requester_id: Mapped[int | None] = mapped_column(ForeignKey("requesters.id"))
    state: Mapped[str] = mapped_column(String(64), default="idle")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=_now, onupdate=_now)


class InboundMessage(Base):
    """Every inbound message, persisted before it is acknowledged; the unique key drops duplicates."""

    __tablename__ = "inbound_messages"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(300))
    sender: Mapped[str | None] = mapped_column(String(254))
    received_at: Mapped[datetime] = mapped_column(default=_now)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="received")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    processed_at: Mapped[datetime | None] = mapped_column()
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))


class OutboxMessage(Base):
    """A notification to deliver, written in the same transaction as the change it reports."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str | None] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=_now)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=_now)
    sent_at: Mapped[datetime | None] = mapped_column()


class SlaClock(Base):
    """One threshold of one ticket's commitment, fired once by the SLA watcher."""

    __tablename__ = "sla_clocks"
    __table_args__ = (
        UniqueConstraint("ticket_id", "policy", "threshold"),
        Index("ix_sla_clocks_due", "fired", "due_at"),
        Index("ix_sla_clocks_ticket_deadline", "ticket_id", "threshold", "fired", "deadline"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    policy: Mapped[str] = mapped_column(String(32))
    threshold: Mapped[str] = mapped_column(String(16))
    #: When the watcher acts on the row; later than `deadline` only while a notice is held
    #: outside opening hours; NULL while the clock is paused (ticket waiting on the teacher).
    due_at: Mapped[datetime | None] = mapped_column()
    #: The threshold's own instant (the commitment shown to people); never moved by a hold.
    deadline: Mapped[datetime | None] = mapped_column()
    fired: Mapped[bool] = mapped_column(Boolean, default=False)
    fired_at: Mapped[datetime | None] = mapped_column()


class ArticleFeedback(Base):
    """One « Cet article vous a-t-il aidé ? » vote on a knowledge-base article."""

    __tablename__ = "kb_feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), index=True)
    helpful: Mapped[bool] = mapped_column(Boolean)
    channel: Mapped[str] = mapped_column(String(16))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=_now, index=True)


class Deflection(Base):
    """A tutorial offered before opening a ticket, and whether it solved the problem."""

    __tablename__ = "kb_deflections"
    __table_args__ = (CheckConstraint("outcome IN ('solved', 'not_solved')", name="outcome"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    requester_id: Mapped[int | None] = mapped_column(
        ForeignKey("requesters.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=_now, index=True)
