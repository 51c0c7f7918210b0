"""The reviewer's vocabulary: the shipped European checklist (every species, groups, sources),
found by code, scientific or English name; the codes formats write; imports that name it."""

from __future__ import annotations

import csv
from typing import TYPE_CHECKING

from test_export import golden_survey

from bsgbat_gui.core.checklist import KIND_GROUP, KIND_NOT_A_BAT, KIND_SPECIES, european_checklist
from bsgbat_gui.core.export.formats import EXPORT_CSV_COLUMNS, export_survey, kaleidoscope_code
from bsgbat_gui.core.export.guano import guano_updates
from bsgbat_gui.core.review.decision_import import plan_import
from bsgbat_gui.core.review.survey import recording_rows
from bsgbat_gui.core.species import SPECIES

if TYPE_CHECKING:
    from pathlib import Path


def test_the_checklist_holds_every_label_a_reviewer_needs() -> None:
    checklist = european_checklist()
    species = [t for t in checklist.taxa if t.kind == KIND_SPECIES]
    assert len(species) >= 45  # the European bat fauna, not the model's 21
    for model_species in SPECIES[:-1]:  # Background is not a species
        taxon = checklist.find(model_species.scientific_name)
        assert taxon is not None
        assert taxon.code == model_species.code
    for name in ("Myotis nattereri", "Myotis myotis", "Myotis mystacinus", "Myotis bechsteinii",
                 "Myotis emarginatus", "Nyctalus lasiopterus"):  # fmt: skip
        assert checklist.find(name) is not None, name
    groups = {t.name for t in checklist.taxa if t.kind == KIND_GROUP}
    assert {"Myotis sp.", "Pipistrellus sp.", "Nyctaloid", "Plecotus sp."} <= groups
    sources = {t.name for t in checklist.taxa if t.kind == KIND_NOT_A_BAT}
    assert {"bush-cricket (Orthoptera)", "bird", "rodent", "noise"} <= sources
    assert checklist.find("unknown") is not None
    # Found by code (any case), scientific or English name.
    assert checklist.find("myonat") == checklist.find("Natterer's bat")
    assert [t.code for t in checklist.search("nat")][:2] == ["Myonat", "Pipnat"]  # prefix first
    assert checklist.search("pipnat")[0].code == "Pipnat"
    assert checklist.code_for("Myotis nattereri") == "MYONAT"
    assert checklist.code_for("Myotis sp.") == "MYOSP"
    assert checklist.code_for("noise") == "Noise"
    assert checklist.code_for("odd squeak") == "odd squeak"


def test_labels_outside_the_model_reach_every_export_verbatim_and_as_codes(tmp_path: Path) -> None:
    """A relabel to a checklist species the model does not know, a group and free text: the
    CSV carries them verbatim, Kaleidoscope and GUANO their codes (free text as it is)."""
    survey = golden_survey()
    decisions = list(survey.decisions)
    relabel = decisions[1]  # B's relabel
    decisions[1] = relabel.__class__(**{**relabel.__dict__, "final_species": "Myotis nattereri"})
    survey = survey.__class__(survey.recordings, survey.settings, tuple(decisions), survey.labels)
    recordings = recording_rows(survey)
    export_survey("csv", tmp_path / "d.csv", recordings, scope="all")
    with (tmp_path / "d.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert "Myotis nattereri" in {r["species_final"] for r in rows}
    assert kaleidoscope_code("Myotis nattereri") == "MYONAT"
    updates = {u.path.name: u for u in guano_updates(recordings)}
    assert any("MYONAT" in u.species_codes for u in updates.values())
    # Import: a code is read as its checklist name; a name in no list is reported.
    for row in rows:
        if row["species_final"] == "Myotis nattereri":
            row["species_final"] = "Myonat"
    with (tmp_path / "e.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, EXPORT_CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    plan = plan_import(tmp_path / "e.csv", recordings, survey.decisions, survey.labels)
    assert plan.problems == []
    assert plan.changes == []
    rows[0]["status"], rows[0]["species_final"] = "relabelled", "Myotis natereri"  # a typo
    with (tmp_path / "f.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, EXPORT_CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    plan = plan_import(tmp_path / "f.csv", recordings, survey.decisions, survey.labels)
    assert len(plan.problems) == 1
    assert "not in the checklist" in plan.problems[0]


def test_species_lists_and_excluded_species_in_presets() -> None:
    import math

    from bsgbat_gui.core.analysis.thresholds import ThresholdSettings, parse_preset, preset_json
    from bsgbat_gui.core.checklist import outside_survey, parse_species_list, species_list_text

    checklist = european_checklist()
    text = (
        "# my area\nPippip\nMyotis nattereri  # seen\nNatterer's bat\nLeisler's bat\nGiant panda\n"
    )
    labels, problems = parse_species_list(text, checklist)
    assert labels == ("Pipistrellus pipistrellus", "Myotis nattereri", "Nyctalus leisleri")
    assert problems == ["line 6: 'Giant panda' is not in the checklist"]
    assert parse_species_list(species_list_text(labels, checklist), checklist) == (labels, [])
    model = [s.scientific_name for s in SPECIES]
    outside = outside_survey(model, labels)
    assert "Pipistrellus pipistrellus" not in outside
    assert "Miniopterus schreibersii" in outside
    assert "Background" not in outside  # not a species
    settings = ThresholdSettings({}, "mean", frozenset({"Miniopterus schreibersii"}))
    assert math.isinf(settings.array_for(model)[model.index("Miniopterus schreibersii")])
    again = parse_preset(preset_json(settings, model), model)
    assert again.problems == ()
    assert again.settings.excluded == settings.excluded
