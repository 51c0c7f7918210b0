"""``bsgbat-gui export`` and ``bsgbat-gui import-decisions``: a review store's verified
detections to files, and decisions edited in a spreadsheet back into the store."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING

from bsgbat_gui.commands.exit_codes import EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE
from bsgbat_gui.core.analysis.thresholds import PresetError
from bsgbat_gui.core.audio.guano_write import GuanoUpdate, guano_plan_text, write_guano_updates
from bsgbat_gui.core.export.formats import (
    EXPORT_FORMATS,
    FOLDER_FORMATS,
    STREAMED_FORMATS,
    ExportError,
    export_scope,
    export_streamed,
    export_survey,
)
from bsgbat_gui.core.export.guano import guano_updates
from bsgbat_gui.core.review.connection import StoreError
from bsgbat_gui.core.review.decision_import import DecisionImportError, plan_import
from bsgbat_gui.core.review.store import ReviewStore
from bsgbat_gui.core.review.survey import (
    RECORDING_SCOPES,
    SCOPES,
    Survey,
    load_survey,
    recording_rows,
    select_recordings,
    stream_survey,
)

if TYPE_CHECKING:
    import argparse


def add_parsers(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "export",
        help="write a review store's detections (verified by default) to CSV, Raven, Audacity, "
        "Kaleidoscope id.csv, BriteKit or a summary",
        description="Write the detections of a review store (bsgbat-review.sqlite) at the "
        "thresholds saved by the window. Refuses to replace an existing file unless --overwrite.",
    )
    p.add_argument("store", type=Path, metavar="STORE.sqlite", help="review store")
    p.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="PATH",
        help=f"file to write (a folder for {' and '.join(FOLDER_FORMATS)})",
    )
    p.add_argument("--format", choices=EXPORT_FORMATS, default="csv", help="default: csv")
    p.add_argument(
        "--scope",
        choices=SCOPES,
        help="verified: confirmed + relabelled (default); detections: every event at the "
        "thresholds except rejected ones; all: rejected ones too (csv, raven, audacity; "
        "britekit writes verified detections only; kaleidoscope and summary take no scope)",
    )
    p.add_argument(
        "--recordings",
        choices=RECORDING_SCOPES,
        default="all",
        help="all (default), or only reviewed ones (marked reviewed or no bats, or every "
        "detection decided)",
    )
    p.add_argument(
        "--thresholds",
        type=Path,
        metavar="PRESET.json",
        help="use these thresholds instead of the ones saved in the store",
    )
    p.add_argument("--overwrite", action="store_true", help="replace existing files")
    p.add_argument(
        "--write-guano",
        action="store_true",
        help="also write the species of each exported recording (--recordings) into its WAV "
        "file's GUANO 'Species Manual ID' (lists the files and asks first; audio untouched)",
    )
    p.add_argument("--yes", action="store_true", help="do not ask before --write-guano")
    p.set_defaults(run=run_export)

    p = subparsers.add_parser(
        "import-decisions",
        help="read statuses, final species and notes edited in an exported CSV back into a store",
        description="Update a review store from an exported detections CSV: rows are matched by "
        "path, species and span; rows that match nothing are reported, not guessed.",
    )
    p.add_argument("store", type=Path, metavar="STORE.sqlite", help="review store")
    p.add_argument("csv", type=Path, metavar="FILE.csv", help="an exported detections CSV")
    p.add_argument("--thresholds", type=Path, metavar="PRESET.json",
                   help="thresholds the CSV was exported at, if not the store's")  # fmt: skip
    p.add_argument("--reviewer", default="", help="name for changed rows that give none")
    p.add_argument("--dry-run", action="store_true", help="say what would change, change nothing")
    p.set_defaults(run=run_import)


def open_store(args: argparse.Namespace, stderr: IO[str], *, write: bool) -> ReviewStore | None:
    """The command's review store (None, said on ``stderr``, when it cannot be used)."""
    if not args.store.is_file():
        stderr.write(f"error: {args.store}: no such review store\n")
        return None
    try:
        store = ReviewStore.open(args.store, exclusive=True)
    except StoreError as exc:
        stderr.write(f"error: {exc}\n")
        return None
    if write and store.read_only:
        stderr.write(
            f"error: {args.store} is open in a bsgbat-gui window; close it there (or import "
            "from that window's Export panel)\n"
        )
        store.close()
        return None
    return store


def open_survey(
    args: argparse.Namespace, stderr: IO[str], *, write: bool
) -> tuple[ReviewStore, Survey] | None:
    store = open_store(args, stderr, write=write)
    if store is None:
        return None
    try:
        survey, problems = load_survey(store, args.thresholds)
    except PresetError as exc:
        stderr.write(f"error: {exc}\n")
        store.close()
        return None
    for problem in problems:
        stderr.write(f"warning: {problem}\n")
    return store, survey


def run_export(
    args: argparse.Namespace, *, stdout: IO[str] | None = None, stderr: IO[str] | None = None,
    stdin: IO[str] | None = None,
) -> int:  # fmt: skip
    stdout = stdout if stdout is not None else sys.stdout
    stderr = stderr if stderr is not None else sys.stderr
    stdin = stdin if stdin is not None else sys.stdin
    if args.format in STREAMED_FORMATS and not args.write_guano:
        return _export_streamed(args, stdout, stderr)
    opened = open_survey(args, stderr, write=args.write_guano)
    if opened is None:
        return EXIT_USAGE
    store, survey = opened
    with store:
        recordings = recording_rows(survey)
        try:
            result = export_survey(
                args.format, args.out, recordings, scope=args.scope, which=args.recordings,
                overwrite=args.overwrite,
            )  # fmt: skip
        except ExportError as exc:
            stderr.write(f"error: {exc}\n")
            return EXIT_USAGE
        except OSError as exc:
            stderr.write(f"error: cannot write {args.out}: {exc.strerror or exc}\n")
            return EXIT_SOME_FAILED
        what = {"kaleidoscope": "recordings", "summary": "summary lines"}.get(args.format, "rows")
        where = args.out if len(result.files) == 1 else f"{len(result.files)} files in {args.out}"
        stdout.write(f"wrote {result.rows} {what} to {where}\n")
        if not args.write_guano:
            return EXIT_OK
        # Exactly the recordings the export selected (--recordings), nothing else.
        updates = guano_updates(select_recordings(recordings, args.recordings))
        return _write_guano(store, updates, args.yes, stdin, stdout, stderr)


def _export_streamed(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    """A row format (CSV, BriteKit) read from the store and written one recording at a time:
    memory does not grow with the survey (a season of 100,000 recordings)."""
    store = open_store(args, stderr, write=False)
    if store is None:
        return EXIT_USAGE
    with store:
        try:
            stream = stream_survey(store, args.thresholds)
        except PresetError as exc:
            stderr.write(f"error: {exc}\n")
            return EXIT_USAGE
        said = 0

        def say_problems() -> None:
            nonlocal said
            for problem in stream.problems[said:]:
                stderr.write(f"warning: {problem}\n")
            said = len(stream.problems)

        say_problems()
        try:
            # Verified rows are decided ones: recordings without a decision have none.
            verified = export_scope(args.format, args.scope) == "verified"
            result = export_streamed(
                args.format, args.out, stream.recording_rows(decided_only=verified),
                scope=args.scope, which=args.recordings, overwrite=args.overwrite,
            )  # fmt: skip
        except ExportError as exc:
            stderr.write(f"error: {exc}\n")
            return EXIT_USAGE
        except OSError as exc:
            stderr.write(f"error: cannot write {args.out}: {exc.strerror or exc}\n")
            return EXIT_SOME_FAILED
        finally:
            say_problems()
        stdout.write(f"wrote {result.rows} rows to {args.out}\n")
    return EXIT_OK


def _write_guano(
    store: ReviewStore,
    updates: list[GuanoUpdate],
    assume_yes: bool,
    stdin: IO[str],
    stdout: IO[str],
    stderr: IO[str],
) -> int:
    if not updates:
        stdout.write("no reviewed species to write into GUANO\n")
        return EXIT_OK
    stdout.write(f"GUANO write-back, {len(updates)} WAV file(s):\n{guano_plan_text(updates)}\n")
    if not assume_yes:
        stdout.write(
            f"Write 'Species Manual ID' into these {len(updates)} file(s)? The audio is kept "
            "byte for byte; other metadata is kept. Type yes: "
        )
        stdout.flush()
        if stdin.readline().strip().lower() != "yes":
            stdout.write("GUANO left unchanged\n")
            return EXIT_OK
    failed = 0
    for result in write_guano_updates(updates):
        if result.error:
            failed += 1
            stderr.write(f"error: {result.path}: {result.error} (file left as it was)\n")
            continue
        try:
            store.file_rewritten(result.path, result.sha256)
        except (OSError, StoreError, sqlite3.Error) as exc:
            stderr.write(f"warning: {result.path}: written; analysis cache not updated ({exc})\n")
    stdout.write(f"GUANO written to {len(updates) - failed} file(s), {failed} failed\n")
    return EXIT_SOME_FAILED if failed else EXIT_OK


def run_import(
    args: argparse.Namespace, *, stdout: IO[str] | None = None, stderr: IO[str] | None = None
) -> int:
    stdout = stdout if stdout is not None else sys.stdout
    stderr = stderr if stderr is not None else sys.stderr
    opened = open_survey(args, stderr, write=not args.dry_run)
    if opened is None:
        return EXIT_USAGE
    store, survey = opened
    with store:
        try:
            plan = plan_import(
                args.csv, recording_rows(survey), survey.decisions, survey.labels,
                reviewer=args.reviewer,
            )  # fmt: skip
        except DecisionImportError as exc:
            stderr.write(f"error: {exc}\n")
            return EXIT_USAGE
        for problem in plan.problems:
            stderr.write(f"not matched: {problem}\n")
        if not args.dry_run and plan.changes:
            store.apply_changes(plan.changes)
        verb = "would be" if args.dry_run else "imported"
        stdout.write(f"{args.csv.name}: {verb}: {plan.describe()}\n")
    return EXIT_SOME_FAILED if plan.problems else EXIT_OK
