"""CSV imports: directory columns, encodings, rejected rows with reasons, idempotence."""

from sqlalchemy import func, select

from desk import repositories as repo
from desk.importers import ImportFileError, import_assets, import_schools
from desk.models import Asset, Commune, Organisation, Room, School
from domain.uai import make_uai

import pytest

U1, U2, U3 = make_uai("0421001"), make_uai("0421002"), make_uai("0421003")
HEADER = (
    "Identifiant_de_l_etablissement;Nom_etablissement;Type_etablissement;Statut_public_prive;"
    "Adresse_1;Code_postal;Code_commune;Nom_commune;Colonne_inconnue\n"
)


def schools_csv() -> str:
    return HEADER + (
        f"{U1};École élémentaire Jules Ferry;Ecole;Public;1 rue Haute;42700;42095;Firminy;x\n"
        f"{U2};École privée Sainte-Marie;Ecole;Privé;2 rue Basse;42000;42218;Saint-Étienne;x\n"
        "0421004Z;École au code faux;Ecole;Public;;42000;42218;Saint-Étienne;x\n"
        f"{U3};Collège Jean Moulin;Collège;Public;;42000;42218;Saint-Étienne;x\n"
        f"{U1};École en double;Ecole;Public;;42700;42095;Firminy;x\n"
    )


async def _territory(session):
    return await repo.ensure_territory(session, "sem", "Saint-Étienne Métropole")


async def test_school_import_accepts_good_rows_and_reports_bad_ones(db) -> None:
    """Good rows go in; bad UAI, non-school type and duplicates are reported by line."""
    async with db.sessions.begin() as session:
        territory = await _territory(session)
        report = await import_schools(session, territory, schools_csv().encode())
    assert (report.created, report.updated) == (2, 0)
    assert [r.line for r in report.rejected] == [4, 5, 6]
    assert "UAI invalide" in report.rejected[0].reason
    assert "Collège" in report.rejected[1].reason
    assert "double" in report.rejected[2].reason
    assert report.unknown_columns == ["colonne_inconnue"]
    async with db.sessions() as session:
        private = await repo.school_by_uai(session, U2)
        assert private.status == "private" and private.ogec is not None
        assert private.commune.name == "Saint-Étienne"
        assert private.commune.organisation.slug == "commune-saint-etienne"


async def test_school_import_is_idempotent(db) -> None:
    """Importing the same file twice updates rows and creates no duplicates."""
    for expected in ((2, 0), (0, 2)):
        async with db.sessions.begin() as session:
            territory = await _territory(session)
            report = await import_schools(session, territory, schools_csv().encode())
        assert (report.created, report.updated) == expected
    async with db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(School)) == 2
        assert await session.scalar(select(func.count()).select_from(Commune)) == 2
        orgs = await session.scalar(select(func.count()).select_from(Organisation))
        assert orgs == 3  # two communes and one OGEC


async def test_latin1_export_is_detected(db) -> None:
    """A Windows-1252 export with accented names is decoded correctly."""
    raw = schools_csv().encode("cp1252")
    async with db.sessions.begin() as session:
        territory = await _territory(session)
        report = await import_schools(session, territory, raw)
    assert report.encoding == "cp1252"
    async with db.sessions() as session:
        school = await repo.school_by_uai(session, U1)
        assert school.name == "École élémentaire Jules Ferry"


async def test_small_latin1_file_is_not_read_as_central_european(db) -> None:
    """A one-school Latin-1 file keeps « Les Prés Verts » (a detector once read it as cp1250 « Prčs »)."""
    raw = (HEADER + f"{U3};École maternelle Les Prés Verts;Ecole;Public;3 rue;42700;42095;Firminy;x\n").encode("latin-1")
    async with db.sessions.begin() as session:
        territory = await _territory(session)
        report = await import_schools(session, territory, raw)
    assert report.encoding == "cp1252" and not report.rejected
    async with db.sessions() as session:
        assert (await repo.school_by_uai(session, U3)).name == "École maternelle Les Prés Verts"


def test_bytes_undefined_in_windows_1252_fall_back_to_latin1() -> None:
    """0x8d is undefined in Windows-1252: the file is then read as ISO-8859-1, not replaced."""
    from desk.csvfiles import decode

    assert decode("Prés\x8d".encode("latin-1")) == ("Prés\x8d", "latin-1")


async def test_missing_required_columns_refuse_the_file(db) -> None:
    """A file without the UAI column is refused as a whole, naming the column."""
    async with db.sessions.begin() as session:
        territory = await _territory(session)
        with pytest.raises(ImportFileError, match="identifiant_de_l_etablissement"):
            await import_schools(session, territory, b"Nom_etablissement;Nom_commune\nA;B\n")


async def test_asset_import_rejects_row_by_row_and_updates_by_tag(db) -> None:
    """Unknown school, unknown owner, bad type, bad date and duplicate tags are rejected."""
    async with db.sessions.begin() as session:
        territory = await _territory(session)
        await import_schools(session, territory, schools_csv().encode())
    assets = (
        "tag,type,model,uai,room,owner,acquired_on,value\n"
        f"SEM-000001,projector,Epson EB-W51,{U1},CM2,sem,2024-09-01,\"520,00\"\n"
        f"SEM-000002,tablet,Galaxy Tab,{U1},CM2,Métropole,01/09/2023,290\n"
        f"SEM-000003,tablet,Galaxy Tab,0429999X,CM2,sem,2023-09-01,290\n"
        f"SEM-000004,toaster,Grille-pain,{U1},CM2,sem,2023-09-01,20\n"
        f"SEM-000005,laptop,Dell,{U1},CM2,voisin,2023-09-01,700\n"
        f"SEM-000006,laptop,Dell,{U1},CM2,sem,31/02/2023,700\n"
        f"SEM-000001,projector,Epson,{U1},CM2,sem,2024-09-01,520\n"
    )
    async with db.sessions.begin() as session:
        territory = await _territory(session)
        report = await import_assets(session, territory, assets.encode())
    assert report.created == 2
    reasons = {r.line: r.reason for r in report.rejected}
    assert set(reasons) == {4, 5, 6, 7, 8}
    assert "école inconnue" in reasons[4] and "type" in reasons[5]
    assert "propriétaire" in reasons[6] and "date" in reasons[7] and "double" in reasons[8]
    async with db.sessions() as session:
        asset = await repo.asset_by_tag(session, territory.id, "sem-000001")
        assert asset.value_cents == 52000 and asset.room.name == "CM2"
        assert await session.scalar(select(func.count()).select_from(Room)) == 1

    moved = f"tag;type;model;uai;room;owner\nSEM-000001;projector;Epson EB-W51;{U2};BCD;sem\n"
    async with db.sessions.begin() as session:
        territory = await _territory(session)
        report = await import_assets(session, territory, moved.encode())
    assert (report.created, report.updated) == (0, 1)
    async with db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Asset)) == 2
        asset = await repo.asset_by_tag(session, territory.id, "SEM-000001")
        assert asset.school.uai == U2 and asset.room.name == "BCD"


async def test_a_row_too_large_or_malformed_is_rejected_and_the_import_goes_on(db, caplog) -> None:
    """A cp1252 export with a field over the csv module's limit and a NUL byte: those rows are
    rejected with their line and a French reason, the others are imported, nothing is raised."""
    huge = "x" * 200_000
    text = HEADER + (
        f"{U1};École élémentaire Jules Ferry;Ecole;Public;1 rue Haute;42700;42095;Firminy;x\n"
        f"{U2};\"{huge}\";Ecole;Public;;42000;42218;Saint-Étienne;x\n"
        f"{U3};École Prévert;Ecole;Public;;42000;42218;Saint-Étienne;x\n"
    )
    async with db.sessions.begin() as session:
        territory = await _territory(session)
        report = await import_schools(session, territory, text.encode("cp1252"))
    assert report.encoding == "cp1252"
    assert report.created == 2
    assert [(r.line, r.reason) for r in report.rejected] == [(3, "ligne illisible : un champ dépasse 131072 caractères")]
    assert "ligne 3 : ligne illisible" in report.summary()
    assert not [r for r in caplog.records if r.exc_info]


async def test_a_nul_character_in_a_cell_rejects_that_row_only(db, caplog) -> None:
    """No database stores a NUL (PostgreSQL refuses it): the row is rejected in French, the
    others are imported, nothing is raised (found by the CSV fuzzing on PostgreSQL)."""
    async with db.sessions.begin() as session:
        territory = await _territory(session)
        await import_schools(session, territory, schools_csv().encode())
    assets = (
        "tag,type,model,uai,room,owner\n"
        f"SEM-000001,projector,Epson EB-W51,{U1},CM2,sem\n"
        f"SEM-000002,laptop,\x00,{U1},CM2,sem\n"
        f"SEM-000003,tablet,Galaxy Tab,{U1},CM2,sem\n"
    )
    async with db.sessions.begin() as session:
        territory = await _territory(session)
        report = await import_assets(session, territory, assets.encode())
    assert report.created == 2
    assert [(r.line, r.reason) for r in report.rejected] == [(3, "ligne illisible : caractère nul dans un champ")]
    async with db.sessions() as session:
        assert await repo.asset_by_tag(session, territory.id, "SEM-000002") is None
    assert not [r for r in caplog.records if r.exc_info]


async def test_an_unreadable_header_refuses_the_file_in_french(db) -> None:
    """A header whose field is over the limit: the file is refused with a French reason, no traceback."""
    async with db.sessions.begin() as session:
        territory = await _territory(session)
        with pytest.raises(ImportFileError, match="en-tête illisible"):
            await import_schools(session, territory, ("a" * 200_000 + ";b\n1;2\n").encode())


async def test_asset_import_writes_the_logbook_and_a_rolled_back_run_is_its_preview(db) -> None:
    """Each device created or changed gets its event (created; edited with only the fields that changed,
    before and after; moved), with who (« import ») and why (the file); an unchanged row writes nothing;
    a column absent from the file keeps the inventory's value; the same call rolled back is the preview."""
    from desk.models import AssetEvent

    async with db.sessions.begin() as session:
        territory = await _territory(session)
        await import_schools(session, territory, schools_csv().encode())
    first = (
        "tag;type;model;uai;room;owner;acquired_on;value\n"
        f"SEM-000001;projector;Epson EB-W51;{U1};CM2;sem;2024-09-01;520\n"
        f"SEM-000002;tablet;Galaxy Tab;{U1};CM2;sem;2023-09-01;290\n"
        f"SEM-000003;laptop;Dell;{U1};CE1;sem;2023-09-01;700\n"
    )
    async with db.sessions.begin() as session:
        territory = await _territory(session)
        report = await import_assets(session, territory, first.encode(), source="inventaire-2026.csv")
    assert (report.created, report.edited, report.moved, report.unchanged) == (3, 0, 0, 0)
    second = (  # no value column: the values stay; 1 edited, 2 moved, 3 both, 4 new
        "tag;type;model;uai;room;owner;acquired_on\n"
        f"SEM-000001;projector;Epson EB-W52;{U1};CM2;sem;2024-09-01\n"
        f"SEM-000002;tablet;Galaxy Tab;{U2};BCD;sem;2023-09-01\n"
        f"SEM-000003;laptop;Dell Latitude;{U1};CM2;sem;2023-09-01\n"
        f"SEM-000004;printer;;{U1};;sem;\n"
    )
    async with db.sessions() as session:
        territory = await _territory(session)
        territory_id = territory.id
        preview = await import_assets(session, territory, second.encode(), source="maj.csv")
        await session.rollback()
    assert (preview.created, preview.edited, preview.moved, preview.unchanged, preview.updated) == (1, 2, 2, 0, 3)
    text = preview.summary(details=True)
    assert "4 ligne(s) importée(s) : 1 créée(s), 2 modifiée(s), 2 déplacée(s), 0 inchangée(s) ; 0 rejetée(s)" in text
    assert "ligne 2, SEM-000001 : modifié — modèle : Epson EB-W51 → Epson EB-W52" in text
    assert f"ligne 3, SEM-000002 : déplacé — école {U1}, salle CM2 → école {U2}, salle BCD" in text
    assert "ligne 5, SEM-000004 : créé (Imprimante, école" in text and "sans salle" in text
    async with db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(AssetEvent)) == 3  # the preview wrote nothing
        assert (await repo.asset_by_tag(session, territory_id, "SEM-000002")).school.uai == U1

    async with db.sessions.begin() as session:
        territory = await _territory(session)
        report = await import_assets(session, territory, second.encode(), source="maj.csv")
    assert (report.created, report.edited, report.moved) == (preview.created, preview.edited, preview.moved)
    async with db.sessions() as session:
        events = (await session.scalars(select(AssetEvent).order_by(AssetEvent.id))).all()
        tags = dict((await session.execute(select(Asset.id, Asset.tag))).all())
        asset = await repo.asset_by_tag(session, territory.id, "SEM-000001")
    assert asset.value_cents == 52000 and asset.model == "Epson EB-W52"  # the absent column kept the value
    assert [(tags[e.asset_id], e.kind) for e in events] == [
        ("SEM-000001", "created"), ("SEM-000002", "created"), ("SEM-000003", "created"),
        ("SEM-000001", "edited"), ("SEM-000002", "moved"), ("SEM-000003", "edited"), ("SEM-000003", "moved"),
        ("SEM-000004", "created")]
    assert {(e.actor_kind, e.actor_name) for e in events} == {("system", "import")}
    assert events[0].body == "Import du fichier inventaire-2026.csv, ligne 2"
    assert events[0].data["after"] == {"type": "projector", "owner": "sem", "model": "Epson EB-W51", "serial": None,
                                       "acquired_on": "2024-09-01", "value_cents": 52000, "school": U1,
                                       "school_name": "École élémentaire Jules Ferry", "room": "CM2"}
    assert events[3].data == {"before": {"model": "Epson EB-W51"}, "after": {"model": "Epson EB-W52"}}
    assert events[4].data["before"]["room"] == "CM2" and events[4].data["after"] == {
        "school": U2, "school_name": "École privée Sainte-Marie", "room": "BCD"}
    assert events[6].body == "Import du fichier maj.csv, ligne 4"

    async with db.sessions.begin() as session:
        territory = await _territory(session)
        again = await import_assets(session, territory, second.encode(), source="maj.csv")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)
    async with db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(AssetEvent)) == 8
