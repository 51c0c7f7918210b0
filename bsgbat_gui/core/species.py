"""The 21 European bat species of BSG-BAT v0.21 (+ Background): names and short codes.

The model's own label file (``bsgbat_labels.txt``) is authoritative for the order; this table adds
the English common names and the 6-letter codes European bat workers use (Tadarida, Vigie-Chiro).
"""

from __future__ import annotations

from dataclasses import dataclass

from bsgbat_gui.core.model_card import BACKGROUND_LABEL


@dataclass(frozen=True)
class Species:
    """A model label's names and code."""

    scientific_name: str
    common_name: str
    code: str


SPECIES: tuple[Species, ...] = (
    Species("Barbastella barbastellus", "Western barbastelle", "Barbar"),
    Species("Eptesicus nilssonii", "Northern bat", "Eptnil"),
    Species("Eptesicus serotinus", "Serotine", "Eptser"),
    Species("Hypsugo savii", "Savi's pipistrelle", "Hypsav"),
    Species("Miniopterus schreibersii", "Common bent-wing bat", "Minsch"),
    Species("Myotis alcathoe", "Alcathoe bat", "Myoalc"),
    Species("Myotis crypticus", "Cryptic myotis", "Myocry"),
    Species("Myotis daubentonii", "Daubenton's bat", "Myodau"),
    Species("Nyctalus leisleri", "Leisler's bat", "Nyclei"),
    Species("Nyctalus noctula", "Common noctule", "Nycnoc"),
    Species("Pipistrellus kuhlii", "Kuhl's pipistrelle", "Pipkuh"),
    Species("Pipistrellus nathusii", "Nathusius' pipistrelle", "Pipnat"),
    Species("Pipistrellus pipistrellus", "Common pipistrelle", "Pippip"),
    Species("Pipistrellus pygmaeus", "Soprano pipistrelle", "Pippyg"),
    Species("Plecotus auritus", "Brown long-eared bat", "Pleaur"),
    Species("Plecotus austriacus", "Grey long-eared bat", "Pleaus"),
    Species("Rhinolophus euryale", "Mediterranean horseshoe bat", "Rhieur"),
    Species("Rhinolophus ferrumequinum", "Greater horseshoe bat", "Rhifer"),
    Species("Rhinolophus hipposideros", "Lesser horseshoe bat", "Rhihip"),
    Species("Tadarida teniotis", "European free-tailed bat", "Tadten"),
    Species("Vespertilio murinus", "Parti-coloured bat", "Vesmur"),
    Species(BACKGROUND_LABEL, "Background (no bat)", "Backgr"),
)

_BY_SCIENTIFIC = {s.scientific_name.lower(): s for s in SPECIES}


def species_for_label(label: str) -> Species:
    """The species a model label names; unknown labels get the label itself as every name."""
    known = _BY_SCIENTIFIC.get(label.strip().lower())
    if known is not None:
        return known
    return Species(label, label, label[:6])


def parse_labels_text(text: str) -> list[str]:
    """Labels in model output order from ``bsgbat_labels.txt``.

    One label per non-empty line, as the card's snippet reads it. A BirdNET-style
    ``Scientific_Common`` line keeps its scientific part.
    """
    labels = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        labels.append(line.split("_", 1)[0].strip() if "_" in line else line)
    return labels
