"""`guichet triage --jsonl`: the stable contract of DOMAIN.md §3."""

from __future__ import annotations

import io
import json

import pytest

from guichet.triage import run_jsonl
from nlu import LocalNlu


@pytest.fixture(scope="module")
def nlu(tmp_path_factory: pytest.TempPathFactory) -> LocalNlu:
    return LocalNlu(cache_dir=tmp_path_factory.mktemp("nlu-cache"))


def _run(lines: list[str], nlu: LocalNlu, territory: str = "sem") -> list[dict]:
    out = io.StringIO()
    assert run_jsonl(io.StringIO("\n".join(lines) + "\n"), out, territory=territory, nlu=nlu) == 0
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_one_output_line_per_input_in_order(nlu: LocalNlu) -> None:
    """Each input gives one output object with the contract's fields, in order."""
    lines = [
        json.dumps({"text": "le vidéoprojecteur de la classe de CM2 ne s'allume plus",
                    "school_status": "public", "asset_owner": None}),
        json.dumps({"text": "plus d'encre dans l'imprimante de la direction", "extra": 1}),
    ]
    first, second = _run(lines, nlu)
    assert first["intent"] == "hardware_failure" and first["org"] == "sem"
    assert first["role"] == "operator" and first["sla"] == "replacement"
    assert "art. 3" in first["reason"]
    assert {"entity": "equipment", "value": "projector"}.items() <= first["entities"][0].items()
    assert 0.0 <= first["confidence"] <= 1.0
    assert second["intent"] == "consumables" and second["org"] == "commune"


def test_bad_lines_yield_errors_and_processing_goes_on(nlu: LocalNlu) -> None:
    """Non-JSON, non-object, missing text and bad enum values give {"error"}; the next line works."""
    lines = ["ceci n'est pas du JSON", "[1, 2]", json.dumps({"texte": "x"}),
             json.dumps({"text": "x", "school_status": "semi"}), "",
             json.dumps({"text": "merci beaucoup !"})]
    results = _run(lines, nlu)
    assert len(results) == 6
    assert all("error" in r for r in results[:5])
    assert results[5]["intent"] == "thanks" and results[5]["org"] == "none"


def test_private_school_and_asset_owner_change_the_org(nlu: LocalNlu) -> None:
    """A private school's school authority is its OGEC; a commune-owned asset goes to the commune."""
    lines = [
        json.dumps({"text": "il faudrait fixer le VPI au mur de la classe", "school_status": "private"}),
        json.dumps({"text": "le PC de la mairie ne démarre plus", "asset_owner": "commune"}),
    ]
    works, pc = _run(lines, nlu)
    assert works["org"] == "ogec"
    assert pc["org"] == "commune"


def test_theft_carries_the_followup(nlu: LocalNlu) -> None:
    """A theft is declared by the commune first, then replaced by the operator."""
    (theft,) = _run([json.dumps({"text": "cambriolage cette nuit, 3 tablettes volées"})], nlu)
    assert theft["intent"] == "theft" and theft["org"] == "commune" and theft["sla"] == "declaration"
    assert theft["followup"]["org"] == "sem"


def test_other_territory(nlu: LocalNlu) -> None:
    """--territory saint-denis routes plan equipment to the Ville."""
    (pc,) = _run([json.dumps({"text": "l'ordi de la classe ne s'allume plus"})], nlu, "saint-denis")
    assert pc["org"] == "commune"


def test_unknown_territory_is_a_clear_error(nlu: LocalNlu) -> None:
    """An unknown preset prints one error object and exits 2."""
    out = io.StringIO()
    assert run_jsonl(io.StringIO(""), out, territory="atlantide", nlu=nlu) == 2
    assert "error" in json.loads(out.getvalue())


def test_two_problems_are_split_and_each_routed(nlu: LocalNlu) -> None:
    """« le vidéoprojecteur ne marche plus et la prise est arrachée »: SEM for one, the commune for the other."""
    [out] = _run([json.dumps({"text": "le vidéoprojecteur ne marche plus et la prise est arrachée"})], nlu)
    routed = {(p["text"], p["org"]) for p in out["problems"]}
    assert routed == {("le vidéoprojecteur ne marche plus", "sem"), ("la prise est arrachée", "commune")}
    # The top level is the first ticket the doors open: the first problem, routed without the socket.
    assert (out["intent"], out["equipment"], out["org"]) == ("hardware_failure", "projector", "sem")


def test_the_first_ticket_is_the_first_problem_even_when_the_whole_leans_to_the_second(nlu: LocalNlu) -> None:
    """« … et il faudrait aussi une formation »: the whole message leans to the training request,
    the first ticket is the software fault said first (SEM); the training request is listed after."""
    text = "Le logiciel de lecture plante à chaque ouverture sur le PC de la classe, et il faudrait aussi une formation aux tablettes pour l'équipe"
    [out] = _run([json.dumps({"text": text})], nlu)
    assert [p["intent"] for p in out["problems"]] == ["software_issue", "training_request"]
    assert (out["intent"], out["org"]) == ("software_issue", "sem")
    assert out["confidence"] == out["problems"][0]["confidence"]


def test_one_problem_has_no_split(nlu: LocalNlu) -> None:
    """A single report carries no `problems` list."""
    [out] = _run([json.dumps({"text": "Bonjour,\nle PC de la classe ne démarre plus.\nMerci"})], nlu)
    assert "problems" not in out


def test_a_report_beside_a_status_question_is_the_reports_ticket(nlu: LocalNlu) -> None:
    """A status question opens no ticket: the mouse it also reports does (its org, its device)."""
    text = "la souris du poste 5 en salle info est HS, et svp où en est la demande 2026-00042 ?"
    [out, alone] = _run([json.dumps({"text": text}), json.dumps({"text": "où en est ma demande 2026-00042 ?"})], nlu)
    assert (out["intent"], out["org"], out["equipment"]) == ("hardware_failure", "sem", "keyboard_mouse")
    assert "problems" not in out
    assert (alone["intent"], alone["org"]) == ("ticket_status", "none")


def test_language_and_premises_in_the_output(nlu: LocalNlu) -> None:
    """An English report is flagged `en`; a dead wall socket goes to the commune with the article."""
    english, socket = _run(
        [json.dumps({"text": "Hello, the projector is not working"}),
         json.dumps({"text": "la prise électrique de la classe de CP ne marche plus"})],
        nlu,
    )
    assert english["language"] == "en" and english["org"] == "sem"
    assert socket["org"] == "commune" and "art. 2" in socket["reason"]


def test_worker_processes_give_the_same_lines_in_the_same_order(nlu: LocalNlu) -> None:
    """`--jobs 2` over several batches: exactly the output of one process, errors included."""
    from guichet import triage

    texts = [
        "le vidéoprojecteur ne marche plus et la prise est arrachée",
        "plus d'encre dans l'imprimante",
        "on nous a volé deux tablettes cette nuit",
        "comment mettre le tableau en veille ?",
    ]
    lines = [json.dumps({"text": f"{texts[i % len(texts)]} ({i})"}, ensure_ascii=False) for i in range(3 * triage.BATCH)]
    lines[700] = "{pas du json"
    single, parallel = io.StringIO(), io.StringIO()
    source = "\n".join(lines) + "\n"
    assert run_jsonl(io.StringIO(source), single, nlu=nlu, jobs=1) == 0
    assert run_jsonl(io.StringIO(source), parallel, nlu=nlu, jobs=2) == 0
    assert parallel.getvalue() == single.getvalue()
    out = single.getvalue().splitlines()
    assert len(out) == len(lines) and "error" in json.loads(out[700])
    assert json.loads(out[0])["problems"][1]["org"] == "commune"


def test_one_event_naming_several_devices_is_one_problem(nlu: LocalNlu) -> None:
    """A burglary listing two devices is one declaration (art. 6), not two tickets."""
    [out] = _run([json.dumps({"text": "Cambriolage ce week-end : deux tablettes et le visualiseur de la classe de CE2 ont disparu"})], nlu)
    assert out["intent"] == "theft" and "problems" not in out


def test_triage_never_imports_the_holidays_package() -> None:
    """Routing reads no calendar: the `holidays` package (every country's module) stays unloaded."""
    import subprocess
    import sys

    code = ("import io, sys\nfrom guichet.triage import run_jsonl\n"
            "out = io.StringIO()\n"
            "run_jsonl(io.StringIO('{\"text\": \"la tablette ne charge plus\"}\\n'), out, territory='sem')\n"
            "assert 'holidays' not in sys.modules, 'holidays imported'\n"
            "print(out.getvalue())")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert '"intent": "hardware_failure"' in done.stdout
