"""Commands that work on the database: db, demo, import, agent, token, mail, report, privacy, labels."""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from sqlalchemy import select

from desk.db import create_engine, session_factory
from desk.migrate import current, upgrade
from desk.models import Agent, ApiToken, Organisation
from desk.repositories import agent_by_email
from desk.security import hash_password, new_token
from guichet.settings import Settings

#: Demo schools printed by `guichet demo`, enough to try a name and a UAI.
DEMO_SCHOOLS_SHOWN = 6


async def dispatch(args: argparse.Namespace, settings: Settings, stdout: TextIO) -> int:
    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)
    try:
        match args.command:
            case "db":
                if args.db_command == "upgrade":
                    await upgrade(engine)
                print(f"révision du schéma : {await current(engine)}", file=stdout)
                return 0
            case "report":
                from guichet.report_cli import committee

                return await committee(sessions, settings.territory, args.period, args.format, stdout, args.output)
            case "privacy":
                from guichet.privacy_cli import run as privacy_run

                return await privacy_run(sessions, settings.territory, args.privacy_command,
                                         dry_run=getattr(args, "dry_run", False),
                                         requester_key=getattr(args, "requester", None), stdout=stdout)
            case "labels":
                from guichet.labels_cli import label_sheet

                return await label_sheet(sessions, settings, args.school, args.room, stdout, args.format, args.output)
            case "demo":
                from guichet.demo import DEMO_PASSWORD, load_demo

                await upgrade(engine)
                from desk.repositories import get_territory, schools_of_territory

                from guichet.bootstrap import ensure_territory_from_preset

                async with sessions.begin() as session:
                    agents = await load_demo(session, settings.territory, args.assets)
                    territory = await get_territory(session, settings.territory)
                    schools = list(await schools_of_territory(session, territory.id))
                    # The other served territories: their row and fixed organisations (their
                    # schools come from `guichet import schools --territory <slug>`).
                    others = [await ensure_territory_from_preset(session, slug)
                              for slug in settings.served_territories[1:]]
                base = settings.public_url.rstrip("/")
                print("Territoire de démonstration chargé.", file=stdout)
                for other in others:
                    print(f"Territoire {other.name} créé ({other.slug}) : importez ses écoles avec "
                          f"« guichet import schools --territory {other.slug} FICHIER.csv » ; "
                          f"son chat : {base}/t/{other.slug}/chat", file=stdout)
                print(f"Comptes de démonstration (mot de passe : {DEMO_PASSWORD}) :", file=stdout)
                for agent in agents:
                    print(f"  {agent.email:38} {agent.role:10} {agent.org_slug}", file=stdout)
                print(f"Écoles à essayer dans le chat ({len(schools)} en tout ; nom et commune, ou code UAI) :",
                      file=stdout)
                for school in schools[:DEMO_SCHOOLS_SHOWN]:
                    print(f"  {school.uai}  {school.name} ({school.commune.name})", file=stdout)
                print(f"Web chat : {base}/chat   Agents : {base}/agents", file=stdout)
                return 0
            case "import":
                return await _import(args, settings, sessions, stdout)
            case "agent":
                return await _agent_add(args, settings, sessions, stdout)
            case "mail":
                return await _mail(args, settings, sessions, stdout)
            case "token":
                async with sessions.begin() as session:
                    agent = await agent_by_email(session, args.agent)
                    if agent is None:
                        print(f"guichet: agent inconnu : {args.agent}", file=sys.stderr)
                        return 1
                    token, token_hash = new_token()
                    session.add(ApiToken(agent_id=agent.id, token_hash=token_hash))
                print(token, file=stdout)
                return 0
        return 2
    finally:
        await engine.dispose()


async def _mail(args, settings, sessions, stdout) -> int:
    from guichet import mail_cli

    if args.mail_command == "quarantine":
        return await mail_cli.show_quarantine(sessions, stdout)
    from guichet.channels.email import build_intake
    from guichet.components import build_kb, build_nlu

    nlu = build_nlu(settings)
    intake = build_intake(settings, sessions, nlu=nlu.backend, tutorials=build_kb())
    return await mail_cli.replay_mails(intake, args.ids, stdout, sys.stderr)


async def _import(args, settings, sessions, stdout) -> int:
    from desk.importers import ImportFileError, import_assets, import_schools
    from desk.repositories import get_territory
    from guichet.bootstrap import ensure_territory_from_preset

    try:
        raw = args.file.read_bytes()
    except OSError as exc:
        print(f"guichet: fichier illisible : {exc}", file=sys.stderr)
        return 1
    progress = _progress_bar(args.kind)
    dry_run = getattr(args, "dry_run", False)
    async with sessions() as session:
        try:
            territory = await get_territory(session, settings.territory)
        except Exception:
            territory = await ensure_territory_from_preset(session, settings.territory)
        try:
            if args.kind == "schools":
                report = await import_schools(session, territory, raw, progress)
            else:
                report = await import_assets(session, territory, raw, progress, source=args.file.name)
        except ImportFileError as exc:
            await session.rollback()
            print(f"guichet: import impossible : {exc}", file=sys.stderr)
            return 1
        if dry_run:
            # The preview is the import itself, undone: it shows exactly what applying would do.
            await session.rollback()
        else:
            await session.commit()
    if dry_run:
        print("Aperçu de l'import : rien n'est enregistré. Relancez sans --dry-run pour appliquer.", file=stdout)
    print(report.summary(details=dry_run), file=stdout)
    return 0 if not report.rejected else 3


def _progress_bar(kind: str):
    if not sys.stderr.isatty():
        return lambda rows: rows
    from tqdm import tqdm

    return lambda rows: tqdm(rows, desc=f"import {kind}", unit=" lignes", file=sys.stderr)


async def _agent_add(args, settings, sessions, stdout) -> int:
    from desk.repositories import get_territory

    async with sessions.begin() as session:
        territory = await get_territory(session, settings.territory)
        org = await session.scalar(
            select(Organisation).where(
                Organisation.territory_id == territory.id, Organisation.slug == args.org
            )
        )
        if org is None:
            print(f"guichet: organisation inconnue : {args.org}", file=sys.stderr)
            return 1
        email = args.email.strip().lower()
        agent = await session.scalar(select(Agent).where(Agent.email == email))
        if agent is None:
            agent = Agent(email=email, name=args.name or email, organisation_id=org.id,
                          password_hash="", role=args.role)
            session.add(agent)
        agent.organisation_id = org.id
        agent.role = args.role
        agent.password_hash = hash_password(args.password)
        if args.name:
            agent.name = args.name
    print(f"agent {email} ({args.role}) enregistré pour {org.name}", file=stdout)
    return 0
