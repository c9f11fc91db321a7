"""`guichet privacy purge|export|erase`: retention and a teacher's rights (RGPD art. 5.1.e, 15, 17)."""

from __future__ import annotations

import json
import sys
from typing import TextIO

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.privacy import erase_requester, export_requester, find_requesters, purge, retention_for


async def run(sessions: async_sessionmaker[AsyncSession], territory: str, command: str, *, dry_run: bool = False,
              requester_key: str | None = None, stdout: TextIO) -> int:
    if command == "purge":
        async with sessions() as session:
            async with session.begin():
                report = await purge(session, retention_for(territory))
                if dry_run:
                    await session.rollback()
        prefix = "Simulation (rien n'est modifié) : " if dry_run else "Purge faite : "
        print(prefix + report.summary_fr() + ".", file=stdout)
        return 0
    async with sessions.begin() as session:
        found = await find_requesters(session, requester_key or "")
        if len(found) > 1:
            print(f"guichet: {requester_key} désigne {len(found)} demandeurs (un par territoire) : "
                  + ", ".join(f"n° {r.id}" for r in found) + ". Donnez le numéro de celui à traiter.",
                  file=sys.stderr)
            return 1
        requester = found[0] if found else None
        if requester is None:
            print(f"guichet: demandeur inconnu : {requester_key} (un numéro, une adresse électronique "
                  "ou canal:identifiant, par exemple telegram:12345)", file=sys.stderr)
            return 1
        if command == "export":
            json.dump(await export_requester(session, requester), stdout, ensure_ascii=False, indent=2)
            stdout.write("\n")
            return 0
        report = await erase_requester(session, requester)
    print(f"Demandeur {requester.id} anonymisé : {report.summary_fr()}. Ses demandes restent comptées "
          "dans les rapports.", file=stdout)
    return 0
