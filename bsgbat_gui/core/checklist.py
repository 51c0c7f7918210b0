"""The reviewer's vocabulary: European bat species, group labels and non-bat sources, with codes.

The models know 21 species; a reviewer hears more (*Myotis nattereri*, a bush-cricket, a
*Myotis* whose species cannot be told). The checklist (``resources/species/european-bats.csv``)
lists every label a decision can carry besides free text, each with:

* ``name`` — what a decision stores: the scientific name for species and groups (the models'
  labels are scientific names too), a plain word for the rest (``noise``, ``unidentified bat``);
* ``code`` — the 6-letter genus+species code European bat workers use (Tadarida / Vigie-Chiro
  ``Pippip``; Kaleidoscope writes it upper-case, ``PIPPIP``), ``Myosp``-style for groups, a word
  for the rest (``NoID``, ``Noise`` as in Kaleidoscope's files);
* ``english_name``, ``kind`` (:data:`KINDS`) and ``family``.

Labels not in the checklist (free text typed by a reviewer) are kept verbatim; where a format
needs a code they are written as they are.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bsgbat_gui.core.resources import resource_path

if TYPE_CHECKING:
    from collections.abc import Iterable

CHECKLIST_RESOURCE = "species/european-bats.csv"
KIND_SPECIES = "species"
KIND_GROUP = "group"  # a genus or a group of genera: the species not determined
KIND_BAT = "bat"  # a bat call of undetermined species (unidentified, social call, buzz)
KIND_NOT_A_BAT = "not a bat"
KIND_UNKNOWN = "unknown"
KINDS = (KIND_SPECIES, KIND_GROUP, KIND_BAT, KIND_NOT_A_BAT, KIND_UNKNOWN)


@dataclass(frozen=True)
class Taxon:
    """One label of the checklist (a species, a group, or a sound source)."""

    code: str
    name: str
    english_name: str
    kind: str
    family: str = ""

    @property
    def is_bat(self) -> bool:
        """Whether the label names a bat (species, group or bat call)."""
        return self.kind in (KIND_SPECIES, KIND_GROUP, KIND_BAT)

    @property
    def format_code(self) -> str:
        """The code as Kaleidoscope and GUANO files carry it: species and group codes in upper
        case (``PIPPIP``, ``MYOSP``), the words for other sources as they are (``Noise``).
        """
        return self.code.upper() if self.kind in (KIND_SPECIES, KIND_GROUP) else self.code


class Checklist:
    """The labels a reviewer can give, found by name, code or English name."""

    def __init__(self, taxa: Iterable[Taxon]) -> None:
        self.taxa = tuple(taxa)
        self._by_key: dict[str, Taxon] = {}
        for taxon in self.taxa:
            for key in (taxon.name, taxon.code, taxon.english_name):
                self._by_key.setdefault(key.casefold(), taxon)

    def __len__(self) -> int:
        return len(self.taxa)

    def find(self, text: str) -> Taxon | None:
        """The label whose name, code or English name is ``text`` (any case), if any."""
        return self._by_key.get(text.strip().casefold())

    def search(self, text: str) -> list[Taxon]:
        """Labels whose name, code or English name contains ``text`` (any case); exact matches
        first, then those starting with it, then the rest, each in checklist order.
        """
        needle = text.strip().casefold()
        if not needle:
            return list(self.taxa)

        def rank(taxon: Taxon) -> int | None:
            keys = [k.casefold() for k in (taxon.code, taxon.name, taxon.english_name)]
            if needle in keys:
                return 0
            if any(k.startswith(needle) for k in keys):
                return 1
            if any(needle in k for k in keys):
                return 2
            return None

        ranked = [(r, i, t) for i, t in enumerate(self.taxa) if (r := rank(t)) is not None]
        return [t for _, _, t in sorted(ranked, key=lambda x: (x[0], x[1]))]

    def code_for(self, label: str) -> str:
        """The code a format writes for ``label``: the checklist's (:attr:`Taxon.format_code`),
        or the label itself when it is free text.
        """
        taxon = self.find(label)
        return taxon.format_code if taxon is not None else label.strip()


def parse_checklist(text: str) -> Checklist:
    """A checklist from the CSV text of :data:`CHECKLIST_RESOURCE`; raises ``ValueError`` for
    a row that is not a label (unknown kind, empty code or name, a code used twice).
    """
    taxa: list[Taxon] = []
    seen: set[str] = set()
    for line, row in enumerate(csv.DictReader(text.splitlines()), start=2):
        taxon = Taxon(
            code=(row.get("code") or "").strip(),
            name=(row.get("name") or "").strip(),
            english_name=(row.get("english_name") or "").strip(),
            kind=(row.get("kind") or "").strip(),
            family=(row.get("family") or "").strip(),
        )
        if not taxon.code or not taxon.name or taxon.kind not in KINDS:
            raise ValueError(f"checklist line {line}: {row}")
        if taxon.code.casefold() in seen:
            raise ValueError(f"checklist line {line}: code {taxon.code} used twice")
        seen.add(taxon.code.casefold())
        taxa.append(taxon)
    return Checklist(taxa)


@functools.lru_cache(maxsize=1)
def european_checklist() -> Checklist:
    """The shipped checklist (read once)."""
    return parse_checklist(resource_path(CHECKLIST_RESOURCE).read_text(encoding="utf-8"))


# -- the survey species list ---------------------------------------------------------------------

SURVEY_SPECIES_META = "survey_species"  # review-store key: the list, as JSON
SPECIES_LIST_HEADER = "# bsgbat-gui survey species list: one species (name or code) per line"


def parse_species_list(text: str, checklist: Checklist) -> tuple[tuple[str, ...], list[str]]:
    """The labels a species-list file names — one per line, by scientific name, code or English
    name (a CSV's first column works too; text after ``#`` is a comment) — and one problem per
    line that names no label of the checklist.
    """
    labels: list[str] = []
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        entry = line.split("#", 1)[0].split(",", 1)[0].strip().strip('"')
        if not entry or entry.casefold() in ("name", "code", "species"):
            continue
        taxon = checklist.find(entry)
        if taxon is None:
            problems.append(f"line {number}: {entry!r} is not in the checklist")
        elif taxon.name not in labels:
            labels.append(taxon.name)
    return tuple(labels), problems


def species_list_text(labels: Iterable[str], checklist: Checklist) -> str:
    """A species-list file: the header, then ``name  # code, English name`` per line."""
    lines = [SPECIES_LIST_HEADER]
    for label in labels:
        taxon = checklist.find(label)
        extra = f"  # {taxon.code}, {taxon.english_name}" if taxon is not None else ""
        lines.append(f"{label}{extra}")
    return "\n".join(lines) + "\n"


def outside_survey(model_labels: Iterable[str], survey_species: Iterable[str]) -> set[str]:
    """The model's species that the survey species list does not name (a group in the list,
    such as *Myotis sp.*, names no species).
    """
    listed = set(survey_species)
    return {
        label
        for label in model_labels
        if (taxon := european_checklist().find(label)) is not None
        and taxon.kind == KIND_SPECIES
        and label not in listed
    }
