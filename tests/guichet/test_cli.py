"""The command line: settings errors, demo, import reports, and serve answering /healthz."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from domain.uai import make_uai
from guichet.cli import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for key in list(os.environ):
        if key.startswith("GUICHET_"):
            monkeypatch.delenv(key)
    return tmp_path


def test_bad_setting_fails_with_one_line(workdir: Path, monkeypatch, capsys) -> None:
    """A wrong GUICHET_* value stops the command with one line naming it, not a traceback."""
    monkeypatch.setenv("GUICHET_HTTP_PORT", "quatre-vingts")
    assert main(["db", "current"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "GUICHET_HTTP_PORT" in err


def test_a_session_secret_that_is_not_a_fernet_key_is_refused(workdir: Path, monkeypatch, capsys) -> None:
    """The cookie key is checked at start, not when the first agent logs in."""
    monkeypatch.setenv("GUICHET_SESSION_SECRET", "not-a-key")
    assert main(["db", "current"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "GUICHET_SESSION_SECRET" in err and "Fernet" in err


def test_mail_quarantine_on_a_fresh_database(workdir: Path) -> None:
    """`guichet mail quarantine` answers in French; `replay` needs at least one number."""
    assert main(["db", "upgrade"], stdout=io.StringIO()) == 0
    out = io.StringIO()
    assert main(["mail", "quarantine"], stdout=out) == 0
    assert out.getvalue() == "Aucun e-mail en quarantaine.\n"
    with pytest.raises(SystemExit) as exited:
        main(["mail", "replay"])
    assert exited.value.code == 2


def test_unknown_database_driver_is_refused(workdir: Path, monkeypatch, capsys) -> None:
    """Only the SQLite and PostgreSQL async drivers are accepted."""
    monkeypatch.setenv("GUICHET_DATABASE_URL", "mysql://root@localhost/db")
    assert main(["db", "upgrade"]) == 2
    assert "GUICHET_DATABASE_URL" in capsys.readouterr().err


def test_demo_then_import_reports_rejected_rows(workdir: Path) -> None:
    """The demo loads, and an import with a bad row exits 3 with the line and reason."""
    out = io.StringIO()
    assert main(["demo", "--assets", "50"], stdout=out) == 0
    assert "agent.sem@guichet.demo" in out.getvalue()
    assert "Écoles à essayer dans le chat" in out.getvalue() and "0421" in out.getvalue()
    csv_file = workdir / "ecoles.csv"
    csv_file.write_text(
        "Identifiant_de_l_etablissement;Nom_etablissement;Type_etablissement;Statut_public_prive;"
        "Code_commune;Nom_commune\n"
        f"{make_uai('0429001')};École du Bourg;Ecole;Public;42095;Firminy\n"
        "0429002A;École au code faux;Ecole;Public;42095;Firminy\n",
        encoding="latin-1",
    )
    out = io.StringIO()
    assert main(["import", "schools", str(csv_file)], stdout=out) == 3
    assert "1 créée(s)" in out.getvalue() and "ligne 3 : code UAI invalide" in out.getvalue()
    out = io.StringIO()
    assert main(["demo", "--assets", "50"], stdout=out) == 0  # idempotent


def test_agent_add_and_token(workdir: Path) -> None:
    """`guichet agent add` then `guichet token create` prints a token."""
    assert main(["demo", "--assets", "10"], stdout=io.StringIO()) == 0
    out = io.StringIO()
    assert main(["agent", "add", "--org", "rectorat", "--email", "Nouvel.Agent@ac-lyon.fr",
                 "--password", "secret-123", "--role", "supervisor"], stdout=out) == 0
    out = io.StringIO()
    assert main(["token", "create", "--agent", "nouvel.agent@ac-lyon.fr"], stdout=out) == 0
    assert out.getvalue().startswith("gui_")
    assert main(["agent", "add", "--org", "nowhere", "--email", "x@y.fr",
                 "--password", "p"], stdout=io.StringIO()) == 1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_demo_then_serve_answers_healthz(workdir: Path) -> None:
    """`guichet demo` then `guichet serve` answers GET /healthz with 200."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUICHET_")}
    port = _free_port()
    env["GUICHET_HTTP_PORT"] = str(port)
    env["GUICHET_BACKGROUND"] = "false"
    guichet = [sys.executable, "-m", "guichet.cli"]
    demo = subprocess.run([*guichet, "demo", "--assets", "20"], cwd=workdir, env=env, check=True,
                          capture_output=True, text=True)
    assert f"Web chat : http://127.0.0.1:{port}/chat" in demo.stdout
    proc = subprocess.Popen([*guichet, "serve"], cwd=workdir, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as resp:
                    assert resp.status == 200
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(proc.stderr.read().decode() if proc.stderr else "")
                time.sleep(0.3)
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_report_committee_prints_the_review_as_html_and_csv(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`guichet report committee` on the demo: the chosen period's review, territory-wide."""
    assert main(["demo", "--assets", "20"], stdout=io.StringIO()) == 0
    out = io.StringIO()
    assert main(["report", "committee", "--period", "2026-09/2026-10"], stdout=out) == 0
    html = out.getvalue()
    assert html.startswith("<!doctype html>") and "Bilan des vols et dégradations — septembre-octobre 2026" in html
    assert "comparé à juillet-août 2026" in html and "Aucun remboursement en retard." in html
    out = io.StringIO()
    assert main(["report", "committee", "--period", "2026-09/2026-10", "--format", "csv"], stdout=out) == 0
    assert out.getvalue().startswith("\ufeffPériode;Commune;Vols;Dégradations;")
    assert main(["report", "committee", "--period", "2026-10/2026-11"], stdout=io.StringIO()) == 2
    assert "deux mois civils" in capsys.readouterr().err


def test_report_committee_writes_the_pack_as_pdf(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--format pdf --output F`: the committee's pack as an A4 PDF that is drawn and reads the
    period; without a file on a terminal-like output, a French line and exit 2."""
    from tests.pdf_pages import INKED, pdf_pages, pdf_text

    assert main(["demo", "--assets", "20"], stdout=io.StringIO()) == 0
    out = io.StringIO()
    target = workdir / "comite.pdf"
    assert main(["report", "committee", "--period", "2026-09/2026-10", "--format", "pdf",
                 "--output", str(target)], stdout=out) == 0
    assert f"bilan septembre-octobre 2026 écrit dans {target}" in out.getvalue()
    data = target.read_bytes()
    assert all(ink > INKED for _, ink in pdf_pages(data))
    assert "Bilan des vols et dégradations — septembre-octobre 2026" in pdf_text(data)
    assert main(["report", "committee", "--format", "pdf"], stdout=io.StringIO()) == 2
    assert "indiquez --output FICHIER.pdf" in capsys.readouterr().err


def test_privacy_commands_on_the_demo(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`guichet privacy purge --dry-run`, `export` and `erase` through the command line, in French."""
    assert main(["demo", "--assets", "0"], stdout=io.StringIO()) == 0
    out = io.StringIO()
    assert main(["privacy", "purge", "--dry-run"], stdout=out) == 0
    assert out.getvalue().startswith("Simulation (rien n'est modifié) : 0 demande(s) anonymisée(s)")
    out = io.StringIO()
    assert main(["privacy", "purge"], stdout=out) == 0 and out.getvalue().startswith("Purge faite : ")
    assert main(["privacy", "export", "--requester", "personne@ecole.fr"], stdout=io.StringIO()) == 1
    err = capsys.readouterr().err
    assert "demandeur inconnu : personne@ecole.fr" in err and "Traceback" not in err


def test_import_with_a_row_over_the_csv_field_limit_reports_it_and_goes_on(workdir: Path, capsys) -> None:
    """A Windows-1252 export with one field over the csv limit: that line is rejected with a French
    reason, the other rows are imported, no traceback, exit 3 as for any rejected row."""
    assert main(["demo", "--assets", "10"], stdout=io.StringIO()) == 0
    csv_file = workdir / "ecoles-cp1252.csv"
    csv_file.write_bytes((
        "Identifiant_de_l_etablissement;Nom_etablissement;Type_etablissement;Statut_public_prive;"
        "Code_commune;Nom_commune\n"
        f"{make_uai('0429011')};École du Pré;Ecole;Public;42095;Firminy\n"
        f"{make_uai('0429012')};\"{'x' * 200_000}\";Ecole;Public;42095;Firminy\n"
        f"{make_uai('0429013')};École des Prés;Ecole;Public;42095;Firminy\n"
    ).encode("cp1252"))
    out = io.StringIO()
    assert main(["import", "schools", str(csv_file)], stdout=out) == 3
    assert "2 créée(s)" in out.getvalue()
    assert "ligne 3 : ligne illisible : un champ dépasse 131072 caractères" in out.getvalue()
    assert "Traceback" not in capsys.readouterr().err


def test_asset_import_dry_run_previews_the_changes_and_saves_nothing(workdir: Path) -> None:
    """`guichet import assets --dry-run`: the counts and every change, nothing written; without it the
    same counts, and the devices' logbooks name the file."""
    import sqlite3

    assert main(["demo", "--assets", "10"], stdout=io.StringIO()) == 0
    db_file = next(workdir.glob("var/*.db"))
    with sqlite3.connect(db_file) as conn:
        tag, uai, room = conn.execute(
            "SELECT a.tag, s.uai, r.name FROM assets a JOIN schools s ON s.id = a.school_id "
            "JOIN rooms r ON r.id = a.room_id ORDER BY a.tag LIMIT 1").fetchone()
        events = conn.execute("SELECT count(*) FROM asset_events").fetchone()[0]
    csv_file = workdir / "parc.csv"
    csv_file.write_text(f"tag;type;uai;room;owner\n{tag};projector;{uai};Salle neuve;sem\n"
                        f"SEM-777001;tablet;{uai};{room};sem\n", encoding="utf-8")
    out = io.StringIO()
    assert main(["import", "assets", str(csv_file), "--dry-run"], stdout=out) == 0
    text = out.getvalue()
    assert text.startswith("Aperçu de l'import : rien n'est enregistré.")
    assert "1 créée(s)" in text and "1 déplacée(s)" in text
    assert f"ligne 2, {tag} : déplacé — école {uai}, salle {room} → école {uai}, salle Salle neuve" in text
    assert "ligne 3, SEM-777001 : créé (Tablette" in text
    with sqlite3.connect(db_file) as conn:
        assert conn.execute("SELECT count(*) FROM assets WHERE tag = 'SEM-777001'").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM asset_events").fetchone()[0] == events
    out = io.StringIO()
    assert main(["import", "assets", str(csv_file)], stdout=out) == 0
    assert "1 créée(s)" in out.getvalue() and "Changements" not in out.getvalue()
    with sqlite3.connect(db_file) as conn:
        bodies = [b for (b,) in conn.execute("SELECT body FROM asset_events ORDER BY id").fetchall()[events:]]
    assert len(bodies) >= 2 and all(b.startswith("Import du fichier parc.csv, ligne ") for b in bodies)


def test_labels_prints_a_school_sheet_and_refuses_an_unknown_uai(workdir: Path, monkeypatch, capsys) -> None:
    """`guichet labels` on the demo: the school's sheet on stdout (one room with --room); an unknown UAI is exit 2."""
    import sqlite3

    from tests.qr_decode import decode_svgs

    assert main(["demo", "--assets", "30"], stdout=io.StringIO()) == 0
    with sqlite3.connect(workdir / "var" / "guichet.db") as con:
        uai, room, count = con.execute(
            "SELECT s.uai, r.name, count(*) FROM assets a JOIN schools s ON s.id = a.school_id "
            "JOIN rooms r ON r.id = a.room_id GROUP BY s.uai, r.name ORDER BY count(*) DESC LIMIT 1").fetchone()
        total, tag = con.execute(
            "SELECT count(*), min(a.tag) FROM assets a JOIN schools s ON s.id = a.school_id WHERE s.uai = ?",
            (uai,)).fetchone()
    monkeypatch.setenv("GUICHET_TELEGRAM_BOT_USERNAME", "GuichetEcolesBot")
    monkeypatch.setenv("GUICHET_PUBLIC_URL", "https://guichet.example.fr")
    out = io.StringIO()
    assert main(["labels", "--school", uai.lower()], stdout=out) == 0
    html = out.getvalue()
    assert html.startswith("<!doctype html>") and f"UAI {uai}" in html
    assert html.count('<article class="label"') == total
    codes = decode_svgs(html)
    assert ("qr qr-main", f"https://t.me/GuichetEcolesBot?start=asset-{tag}") in codes
    assert ("qr qr-web", f"https://guichet.example.fr/chat?asset={tag}") in codes
    out = io.StringIO()
    assert main(["labels", "--school", uai, "--room", room, "--format", "html"], stdout=out) == 0
    assert out.getvalue().count('<article class="label"') == count
    # The same sheet as a PDF file: its Telegram codes scan back to the devices' deep links.
    import numpy as np
    import pypdfium2 as pdfium
    import zxingcpp

    out = io.StringIO()
    target = workdir / "etiquettes.pdf"
    assert main(["labels", "--school", uai, "--format", "pdf", "--output", str(target)], stdout=out) == 0
    assert f"{total} étiquette(s) écrite(s) dans {target}" in out.getvalue()
    document = pdfium.PdfDocument(target.read_bytes())
    read = {c.text for page in document for c in zxingcpp.read_barcodes(
        np.asarray(page.render(scale=4, grayscale=True).to_pil()))}
    document.close()
    assert f"https://t.me/GuichetEcolesBot?start=asset-{tag}" in read
    assert sum(text.startswith("https://t.me/GuichetEcolesBot?start=asset-") for text in read) == total
    capsys.readouterr()
    assert main(["labels", "--school", uai, "--format", "pdf"], stdout=io.StringIO()) == 2
    assert "indiquez --output FICHIER.pdf" in capsys.readouterr().err
    assert main(["labels", "--school", "0999999Z"], stdout=io.StringIO()) == 2
    assert capsys.readouterr().err.strip() == "guichet: aucune école de code UAI '0999999Z' dans le territoire 'sem'"


def test_demo_and_import_with_two_territories(workdir: Path, monkeypatch) -> None:
    """GUICHET_TERRITORIES: the demo fills the first territory and creates the others, whose
    schools are imported with --territory; an agent can be made national administrator."""
    monkeypatch.setenv("GUICHET_TERRITORIES", "sem,saint-denis")
    out = io.StringIO()
    assert main(["demo", "--assets", "20"], stdout=out) == 0
    assert "/t/saint-denis/chat" in out.getvalue()
    csv_file = workdir / "ecoles-974.csv"
    csv_file.write_text(
        "Identifiant_de_l_etablissement;Nom_etablissement;Type_etablissement;Statut_public_prive;"
        "Code_commune;Nom_commune\n"
        f"{make_uai('9740001')};École Lislet Geoffroy;Ecole;Public;97411;Saint-Denis\n",
        encoding="utf-8",
    )
    out = io.StringIO()
    assert main(["import", "schools", "--territory", "saint-denis", str(csv_file)], stdout=out) == 0
    out = io.StringIO()
    assert main(["agent", "add", "--territory", "saint-denis", "--org", "commune-saint-denis",
                 "--email", "national@guichet.test", "--password", "mot-de-passe-national",
                 "--role", "national_admin"], stdout=out) == 0
