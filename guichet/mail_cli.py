"""`guichet mail quarantine` and `guichet mail replay N…`: the mail the intake gave up on.

A mail that failed `max_attempts` times (or can never be read) is kept, quarantined, with its
last error. Once the cause is fixed (a parser bug, a database outage), the operator lists them
and replays them: each gets a fresh set of attempts and is processed at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from desk.errors import RecordNotFound
from handlers.email_intake import EmailIntake, NotQuarantined, quarantined

#: What a replay ended in, for the operator.
OUTCOMES = {
    "processed": "traité (ticket créé ou complété)",
    "held": "mis de côté pour un agent",
    "ignored": "ignoré (réponse automatique ou boucle)",
    "received": "échec, sera retenté",
    "quarantined": "de nouveau en quarantaine",
}


#: The operator's reading of the intake's reasons (stored in English for the logs).
REASONS = (
    ("no sender address: no From header", "aucun en-tête From : personne à qui répondre"),
    ("no sender address: From header without an address",
     "l'en-tête From ne contient aucune adresse : personne à qui répondre"),
    ("no sender address", "aucune adresse d'expéditeur lisible : personne à qui répondre"),
    ("unreadable header block", "en-têtes illisibles : ce n'est pas un e-mail au format standard"),
    ("raw message missing", "le message brut est introuvable dans la base"),
)


def reason_fr(error: str | None) -> str:
    """Why a mail is quarantined, in French, with the technical detail kept after it."""
    text = (error or "erreur inconnue").splitlines()[0][:160]
    for prefix, french in REASONS:
        if text.startswith(prefix):
            detail = text[len(prefix):].lstrip(" :")
            return f"{french} ({detail})" if detail else french
    return f"erreur de traitement ({text})"


async def show_quarantine(sessions: async_sessionmaker[AsyncSession], out: TextIO, *, limit: int = 100) -> int:
    async with sessions() as session:
        rows = await quarantined(session, limit=limit)
    if not rows:
        print("Aucun e-mail en quarantaine.", file=out)
        return 0
    print(f"E-mails en quarantaine ({len(rows)}, les plus récents d'abord) :", file=out)
    for row in rows:
        error = reason_fr(row.error)
        print(f"  n° {row.id} — reçu le {row.received_at:%d/%m/%Y à %H:%M} — "
              f"{row.sender or 'expéditeur illisible'} — {row.attempts} tentative(s) — {error}", file=out)
    print("Pour retraiter un e-mail une fois la cause corrigée : guichet mail replay <n°>", file=out)
    return 0


async def replay_mails(intake: EmailIntake, ids: Sequence[int], out: TextIO, err: TextIO) -> int:
    """Replay each mail; 0 when every one left quarantine, 1 otherwise."""
    code = 0
    for inbound_id in ids:
        try:
            status = await intake.replay(inbound_id)
        except RecordNotFound:
            print(f"n° {inbound_id} : aucun e-mail ne porte ce numéro.", file=err)
            code = 1
            continue
        except NotQuarantined:
            print(f"n° {inbound_id} : cet e-mail n'est pas en quarantaine, rien à refaire.", file=err)
            code = 1
            continue
        print(f"n° {inbound_id} : {OUTCOMES.get(status, status)}.", file=out)
        if status == "quarantined":
            code = 1
    return code
