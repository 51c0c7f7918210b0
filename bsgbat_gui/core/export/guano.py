"""GUANO write-back of review results: what to write into each reviewed recording.

The writing itself (word alignment, verification, refusals) is
:func:`~bsgbat_gui.core.audio.guano_write.write_guano_updates`; this module decides the content
from a survey's rows: the species a reviewer confirmed, as the checklist's codes.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from bsgbat_gui.core.audio.guano_write import GuanoUpdate
from bsgbat_gui.core.checklist import european_checklist
from bsgbat_gui.core.review.decisions import STATUS_CONFIRMED, STATUS_RELABELLED
from bsgbat_gui.core.review.survey import NO_BATS_LABEL

if TYPE_CHECKING:
    from collections.abc import Sequence

    from bsgbat_gui.core.review.survey import RecordingRows


def guano_updates(recordings: Sequence[RecordingRows]) -> list[GuanoUpdate]:
    """What a GUANO write-back writes into each of ``recordings`` that a reviewer has said
    something about: the codes of the final species of its confirmed and relabelled detections
    (the most often confirmed first), then its manual species list; ``Noise`` for a recording
    marked "no bats" with no species. Pass exactly the recordings an export selected.
    """
    checklist = european_checklist()
    updates: list[GuanoUpdate] = []
    for rec in recordings:
        confirmed = Counter(
            r.species_final
            for r in rec.rows
            if r.status in (STATUS_CONFIRMED, STATUS_RELABELLED) and r.species_final
        )
        ordered = [s for s, _ in confirmed.most_common()]  # ties: first confirmed first
        species = list(dict.fromkeys([*ordered, *rec.recording.review.manual_species]))
        if not species and rec.recording.review.no_bats:
            species = [NO_BATS_LABEL]
        if not species:
            continue
        codes = tuple(dict.fromkeys(checklist.code_for(s) for s in species))
        info = rec.recording.analysis.info
        updates.append(GuanoUpdate(info.path, codes, info.time_expansion, info.metadata.timestamp))
    return updates
