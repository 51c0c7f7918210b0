"""``bsgbat-gui evaluate``: the models' analyses in a review store against human annotations,
per species (PR-AUC, ROC-AUC, precision and recall at the store's thresholds)."""

from __future__ import annotations

import json
import math
import sys
from dataclasses import asdict, replace
from pathlib import Path
from typing import IO, TYPE_CHECKING

from bsgbat_gui.commands.exit_codes import EXIT_OK, EXIT_USAGE
from bsgbat_gui.commands.export import open_survey
from bsgbat_gui.core.evaluation.annotations import (
    GRANULARITIES,
    TIME_BASES,
    AnnotationError,
    read_annotations,
)
from bsgbat_gui.core.evaluation.metrics import (
    DEFAULT_BLOCK_S,
    Evaluation,
    EvaluationError,
    evaluate,
)
from bsgbat_gui.core.files import AtomicTextFile
from bsgbat_gui.core.species import species_for_label

if TYPE_CHECKING:
    import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "evaluate",
        help="compare a review store's analyses with annotations (BriteKit CSV, Raven tables)",
        description="Per species PR-AUC, ROC-AUC, precision and recall at the store's thresholds "
        "of the analysed recordings that the annotations cover. Annotation formats: BriteKit "
        "per-segment (recording,class,start_time,end_time), per-block (recording,block,classes), "
        "per-recording (recording,classes) CSVs, and Raven selection tables.",
    )
    p.add_argument("store", type=Path, metavar="STORE.sqlite", help="review store")
    p.add_argument("--annotations", type=Path, nargs="+", required=True, metavar="FILE",
                   help="annotation files (several are combined)")  # fmt: skip
    p.add_argument("--granularity", choices=GRANULARITIES,
                   help="unit of evaluation: model window (segment), block or recording; "
                   "default: the finest the annotations allow")  # fmt: skip
    p.add_argument("--block-seconds", type=float, default=DEFAULT_BLOCK_S, metavar="S",
                   help=f"block length (default {DEFAULT_BLOCK_S:g})")  # fmt: skip
    p.add_argument("--annotation-times", choices=TIME_BASES, default="file",
                   help="file (default): times as measured in the file, divided by the "
                   "time-expansion factor; real: already real-time seconds")  # fmt: skip
    p.add_argument("--thresholds", type=Path, metavar="PRESET.json",
                   help="thresholds to evaluate at, instead of the store's")  # fmt: skip
    p.add_argument("--json", type=Path, metavar="OUT.json", help="also write everything here")
    p.set_defaults(run=run_evaluate)


def _num(value: float | None, digits: int = 3) -> str:
    return "—" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def report(evaluation: Evaluation) -> str:
    header = (
        f"{'species':<28} {'units':>6} {'pos':>5} {'PR-AUC':>7} {'ROC-AUC':>8} "
        f"{'thresh':>7} {'prec':>6} {'recall':>7}"
    )
    lines = [
        f"{evaluation.granularity} evaluation, {evaluation.n_units} units from "
        f"{len(evaluation.recordings)} recording(s), combine {evaluation.combine}",
        header,
    ]
    shown = [m for m in evaluation.species if m.n_positive or m.false_positives]
    lines.extend(
        f"{species_for_label(m.species).scientific_name:<28} {m.n_units:>6} {m.n_positive:>5} "
        f"{_num(m.pr_auc):>7} {_num(m.roc_auc):>8} {m.threshold:>7.3f} "
        f"{_num(m.precision):>6} {_num(m.recall):>7}"
        for m in shown
    )
    hidden = len(evaluation.species) - len(shown)
    if hidden:
        lines.append(f"({hidden} species neither annotated nor detected: not shown)")
    lines.append(
        f"macro mean over annotated species: PR-AUC {_num(evaluation.macro('pr_auc'))}, "
        f"ROC-AUC {_num(evaluation.macro('roc_auc'))}"
    )
    return "\n".join(lines) + "\n"


def as_json(evaluation: Evaluation) -> dict:
    data = asdict(replace(evaluation, units=None))  # the per-unit arrays stay out
    del data["units"]
    for m, entry in zip(evaluation.species, data["species"], strict=True):
        entry["precision"], entry["recall"] = m.precision, m.recall
    data["macro_pr_auc"] = evaluation.macro("pr_auc")
    data["macro_roc_auc"] = evaluation.macro("roc_auc")
    return data


def run_evaluate(
    args: argparse.Namespace, *, stdout: IO[str] | None = None, stderr: IO[str] | None = None
) -> int:
    stdout = stdout if stdout is not None else sys.stdout
    stderr = stderr if stderr is not None else sys.stderr
    opened = open_survey(args, stderr, write=False)
    if opened is None:
        return EXIT_USAGE
    store, survey = opened
    with store:
        analyses = [r.analysis for r in survey.recordings]
        try:
            annotations = read_annotations(args.annotations, survey.labels)
            evaluation = evaluate(
                analyses, annotations, survey.settings,
                args.granularity or annotations.granularity,
                block_s=args.block_seconds, time_base=args.annotation_times,
            )  # fmt: skip
        except (AnnotationError, EvaluationError) as exc:
            stderr.write(f"error: {exc}\n")
            return EXIT_USAGE
    for problem in evaluation.problems:
        stderr.write(f"warning: {problem}\n")
    if evaluation.not_analysed:
        stderr.write(
            f"warning: {len(evaluation.not_analysed)} annotated recording(s) not analysed in "
            f"this store: {', '.join(evaluation.not_analysed[:5])}\n"
        )
    if not evaluation.recordings:
        stderr.write("error: no analysed recording is annotated (names must match the stems)\n")
        return EXIT_USAGE
    stdout.write(report(evaluation))
    if args.json is not None:
        with AtomicTextFile(args.json) as f:
            json.dump(as_json(evaluation), f, indent=2, default=str)
            f.write("\n")
        stdout.write(f"wrote {args.json}\n")
    return EXIT_OK
