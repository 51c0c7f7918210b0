"""``bsgbat-gui report``: a review store's survey report as one self-contained HTML file."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING

from bsgbat_gui.commands.exit_codes import EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE
from bsgbat_gui.commands.export import open_store
from bsgbat_gui.core.analysis.thresholds import PresetError
from bsgbat_gui.core.evaluation.night_activity import PositionError, parse_site_position
from bsgbat_gui.core.evaluation.report import survey_report
from bsgbat_gui.core.evaluation.report_html import write_report
from bsgbat_gui.core.evaluation.sampling import (
    DEFAULT_SAMPLE_EDGES,
    SAMPLE_META_KEY,
    SampleError,
    VerificationSample,
    check_edges,
    draw_sample,
    load_sample,
    save_sample,
)
from bsgbat_gui.core.evaluation.site_positions import load_site_positions
from bsgbat_gui.core.review.connection import StoreError
from bsgbat_gui.core.review.survey import load_survey, recording_rows

if TYPE_CHECKING:
    import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "report",
        help="write a survey report (sites, species, precision, activity through the night) "
        "as one self-contained HTML file",
        description="Write the survey report of a review store: survey and sites, species with "
        "precision and estimated true passes, activity relative to sunset and sunrise, species "
        "by night, emergence, thresholds, model set, reviewers and how to cite the models. One "
        "HTML file, figures inside, nothing fetched from a network; prints to PDF from a "
        "browser. Refuses to replace an existing file unless --overwrite.",
    )
    p.add_argument("store", type=Path, metavar="STORE.sqlite", help="review store")
    p.add_argument("--out", type=Path, required=True, metavar="REPORT.html", help="file to write")
    p.add_argument(
        "--thresholds",
        type=Path,
        metavar="PRESET.json",
        help="use these thresholds instead of the ones saved in the store",
    )
    p.add_argument(
        "--site-position",
        action="append",
        default=[],
        metavar="FOLDER=LAT,LON",
        help="position (decimal degrees) of the recordings in FOLDER (a path, or its last "
        "parts such as 'north') that have no GUANO position; repeatable",
    )
    p.add_argument(
        "--sample-per-stratum",
        type=int,
        metavar="N",
        help="draw a new verification sample of N detections per species × probability bin, "
        "save it in the store (queued for review, replacing an earlier one) and report from it; "
        "without it the report uses the sample already in the store, if any",
    )
    p.add_argument("--seed", type=int, metavar="S", help="seed of the sample (required with N)")
    p.add_argument(
        "--sample-bins",
        metavar="EDGES",
        default=",".join(f"{e:g}" for e in DEFAULT_SAMPLE_EDGES),
        help="probability bin edges of the sample, comma-separated (default: %(default)s)",
    )
    p.add_argument("--title", default="", help="the report's title (default: the store's folder)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing report")
    p.set_defaults(run=run_report)


def run_report(
    args: argparse.Namespace, *, stdout: IO[str] | None = None, stderr: IO[str] | None = None
) -> int:
    stdout = stdout if stdout is not None else sys.stdout
    stderr = stderr if stderr is not None else sys.stderr
    try:
        positions = dict(parse_site_position(text) for text in args.site_position)
        edges = check_edges([float(e) for e in args.sample_bins.split(",") if e.strip()])
    except (PositionError, SampleError) as exc:
        stderr.write(f"error: {exc}\n")
        return EXIT_USAGE
    except ValueError:
        stderr.write(f"error: --sample-bins {args.sample_bins!r}: comma-separated numbers\n")
        return EXIT_USAGE
    drawing = args.sample_per_stratum is not None
    if drawing and args.seed is None:
        stderr.write("error: --sample-per-stratum needs --seed (the sample is reproducible)\n")
        return EXIT_USAGE
    if drawing and args.sample_per_stratum < 1:
        stderr.write("error: --sample-per-stratum must be at least 1\n")
        return EXIT_USAGE
    if args.out.exists() and not args.overwrite:
        stderr.write(f"error: {args.out} exists (--overwrite to replace it)\n")
        return EXIT_USAGE
    store = open_store(args, stderr, write=drawing)
    if store is None:
        return EXIT_USAGE
    with store:
        try:
            survey, problems = load_survey(store, args.thresholds)
        except PresetError as exc:
            stderr.write(f"error: {exc}\n")
            return EXIT_USAGE
        for problem in problems:
            stderr.write(f"warning: {problem}\n")
        try:  # positions kept in the store (the window's); those given here win
            positions = {**load_site_positions(store), **positions}
        except PositionError as exc:
            stderr.write(f"warning: {exc}\n")
        recordings = recording_rows(survey)
        rows = [row for rec in recordings for row in rec.rows]
        sample: VerificationSample | None
        try:
            if drawing:
                if store.get_meta(SAMPLE_META_KEY):
                    stderr.write("note: the store's earlier verification sample is replaced\n")
                sample = draw_sample(
                    rows, per_stratum=args.sample_per_stratum, seed=args.seed, edges=edges
                )
                save_sample(store, sample)
                stdout.write(
                    f"sampled {len(sample.keys)} detections (seed {args.seed}); queued for "
                    f"review in {args.store}\n"
                )
            else:
                sample = load_sample(store)
        except SampleError as exc:
            stderr.write(f"error: {exc}\n")
            return EXIT_USAGE
        except (StoreError, sqlite3.Error) as exc:
            stderr.write(f"error: cannot save the sample in {args.store}: {exc}\n")
            return EXIT_SOME_FAILED
        title = args.title or f"Bat survey: {store.path.parent.name or store.path.parent}"
        report = survey_report(
            survey, recordings, title=title, positions=positions, sample=sample,
            problems=problems,
        )  # fmt: skip
    try:
        write_report(args.out, report)
    except OSError as exc:
        stderr.write(f"error: cannot write {args.out}: {exc.strerror or exc}\n")
        return EXIT_SOME_FAILED
    activity = report.activity
    stdout.write(
        f"wrote the report of {report.recordings} recordings, {len(activity.sites)} sites, "
        f"{len(report.species)} species to {args.out}\n"
    )
    if activity.unplaced:
        count = sum(len(u.recordings) for u in activity.unplaced)
        stderr.write(
            f"note: {count} recording(s) not placed relative to the sun (listed in the report; "
            "--site-position FOLDER=LAT,LON, or the window's View → Survey figures… → Sites, "
            "gives a folder's position)\n"
        )
    return EXIT_OK
