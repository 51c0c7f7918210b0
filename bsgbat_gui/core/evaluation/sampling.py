"""Verification by sample: how precise each species' detections are, when a survey is too large to
review entirely.

**The sample.** The detections (events at the current thresholds, any status) of each species
are split into strata by their maximum probability (``[low, high)`` bins, the last one closed);
from each stratum a simple random sample of the size the user chose is drawn (all of it when the
stratum is smaller). A seed makes the draw reproducible: each stratum draws with its own generator
seeded by ``(seed, species, bin)``, so adding a species or changing one stratum's size leaves the
others' draws as they were. The sample is queued for review by saving its detections' keys (path,
species, span) in the store (:func:`save_sample`); a sampled detection counts once a reviewer
decided it (a decision made before the draw counts too: the draw did not look at it).

**The estimator** (stratified sampling, Cochran 1977, ch. 5). For a species with ``N``
detections, stratum ``h`` holding ``N_h`` of them (weight ``W_h = N_h / N``), ``n_h`` sampled
detections decided and ``x_h`` of them confirmed as that species (a relabelled detection is a
pass of another species: not confirmed)::

    precision  P = Σ_h W_h · p̂_h,   p̂_h = x_h / n_h
    variance   Ṽ = Σ_h W_h² · (1 − n_h / N_h) · p̃_h (1 − p̃_h) / n_h,
               p̃_h = (x_h + z²/2) / (n_h + z²)
    interval   the Wilson score interval of P with the effective sample size
               n_eff = P̃ (1 − P̃) / Ṽ,   P̃ = Σ_h W_h p̃_h

— a Wilson interval on the design's effective sample size (Kish's design effect; the "modified
Wilson" interval for complex surveys of Kott & Carr 1997, compared favourably by Dean & Pagano
2015), with each stratum's proportion shrunk as Agresti–Coull shrinks it before its variance is
taken. Why not the textbook normal interval ``P ± z√V`` on the plug-in variance: strata of high
probability are usually all confirmed in a sample of 20 or so (``x_h = n_h``), where the plug-in
variance is zero and the interval would claim certainty, and precisions near 1 are the common
case; the normal interval also leaves [0, 1]. The shrunk proportions keep the variance honest
there and at small ``n_h``; the Wilson form keeps the interval inside [0, 1] and asymmetric near
its ends. The finite population correction ``1 − n_h / N_h`` makes a fully reviewed stratum
exact (a census of every stratum gives a zero-width interval). The interval's coverage is checked
by simulation in the test suite (``tests/core/evaluation/test_report_sampling.py``: at least
90 % of 400 simulated surveys for the nominal 95 %, over precisions from 0.01 to 0.99 and samples
of 5 to 50 per stratum; it measured 92–99 %).

A stratum with detections but no decided sampled one says nothing: the species' precision is
then unknown (None) and its interval is the worst case, the stratum counted as all wrong for the
lower bound and all right for the upper one.

**Estimated true passes** = precision × detections (with the interval × detections).

Without a sample, :func:`precision_from_decisions` gives the confirmed share of all decided
detections with a Wilson interval: the decisions were not a random sample (reviewers look at
the likelier ones first), so the report says which it shows.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from bsgbat_gui.core.evaluation.reliability import wilson_interval
from bsgbat_gui.core.review.decisions import DECISION_STATUSES, STATUS_CONFIRMED

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence

    from bsgbat_gui.core.analysis.detections import SurveyDetections
    from bsgbat_gui.core.review.store import ReviewStore
    from bsgbat_gui.core.review.survey import DetectionRow

SAMPLE_META_KEY = "verification_sample"
SAMPLE_FORMAT = "bsgbat-verification-sample"
SAMPLE_VERSION = 1
DEFAULT_SAMPLE_EDGES = (0.0, 0.6, 0.8, 0.9, 0.95, 1.0)
Z_95 = 1.959964
_SPAN_TOLERANCE_S = 1e-6
METHOD_SAMPLE = "sample"
METHOD_DECISIONS = "decisions"
METHOD_NONE = "none"


class SampleError(ValueError):
    """Sample settings that cannot be used, or a stored sample that cannot be read."""


@dataclass(frozen=True)
class SampleKey:
    """A detection, as a sample keeps it: recording, detected species and span."""

    path: Path
    species: str
    start_s: float
    end_s: float

    def matches(self, row: DetectionRow) -> bool:
        """Whether ``row`` is this detection."""
        return (
            row.path == self.path
            and row.species_auto == self.species
            and abs(row.start_s - self.start_s) <= _SPAN_TOLERANCE_S
            and abs(row.end_s - self.end_s) <= _SPAN_TOLERANCE_S
        )


@dataclass(frozen=True)
class VerificationSample:
    """A drawn sample: its detections and how it was drawn."""

    keys: tuple[SampleKey, ...]
    edges: tuple[float, ...]
    per_stratum: int
    seed: int
    created_at: str = ""


def check_edges(edges: Sequence[float]) -> tuple[float, ...]:
    """``edges`` as a tuple, checked: at least two, increasing, within [0, 1]. Raises
    :class:`SampleError`.
    """
    values = tuple(float(e) for e in edges)
    if len(values) < 2 or any(b <= a for a, b in itertools.pairwise(values)):
        raise SampleError("probability bin edges must be at least two increasing numbers")
    if values[0] < 0 or values[-1] > 1:
        raise SampleError("probability bin edges must lie within [0, 1]")
    return values


def stratum_of(probability: float, edges: Sequence[float]) -> int:
    """The bin ``[edges[k], edges[k+1])`` holding ``probability`` (the last bin is closed;
    values outside go to the first or last bin).
    """
    k = int(np.searchsorted(np.asarray(edges), probability, side="right")) - 1
    return min(max(k, 0), len(edges) - 2)


def population(rows: Iterable[DetectionRow]) -> list[DetectionRow]:
    """The detections a sample is drawn from: events at the thresholds, any status."""
    return [r for r in rows if r.is_event and r.max_prob is not None]


def _strata(
    rows: Iterable[DetectionRow], edges: Sequence[float]
) -> dict[tuple[str, int], list[DetectionRow]]:
    strata: dict[tuple[str, int], list[DetectionRow]] = {}
    for row in population(rows):
        assert row.max_prob is not None
        strata.setdefault((row.species_auto, stratum_of(row.max_prob, edges)), []).append(row)
    for members in strata.values():
        members.sort(key=lambda r: (str(r.path), r.start_s, r.end_s))
    return dict(sorted(strata.items()))


def draw_sample(
    rows: Iterable[DetectionRow],
    *,
    per_stratum: int,
    seed: int,
    edges: Sequence[float] = DEFAULT_SAMPLE_EDGES,
    sizes: Mapping[tuple[str, int], int] | None = None,
) -> VerificationSample:
    """A stratified random sample of the detections in ``rows``: ``per_stratum`` per species ×
    probability bin (``sizes`` overrides it for some ``(species, bin index)``), reproducible with
    ``seed``. Raises :class:`SampleError` for unusable settings.
    """
    edges = check_edges(edges)
    strata = [
        (stratum, len(members), lambda i, m=members: _key_of_row(m[i]))
        for stratum, members in _strata(rows, edges).items()
    ]
    return _draw(strata, per_stratum, seed, edges, sizes)


def draw_sample_of_events(
    detections: SurveyDetections,
    labels: Sequence[str],
    *,
    per_stratum: int,
    seed: int,
    edges: Sequence[float] = DEFAULT_SAMPLE_EDGES,
    sizes: Mapping[tuple[str, int], int] | None = None,
) -> VerificationSample:
    """:func:`draw_sample` of the rows of ``detections``' events — the same sample, drawn from
    the event arrays (what the window holds: a season's ~1 M events are not made into rows).
    """
    edges = check_edges(edges)
    events = detections.events

    def key(e: int) -> SampleKey:
        return SampleKey(
            detections.paths[int(detections.recording_index[e])],
            labels[int(events.label_index[e])],
            float(events.start_s[e]),
            float(events.end_s[e]),
        )

    strata = [
        (stratum, len(members), lambda i, m=members: key(int(m[i])))
        for stratum, members in event_strata(detections, labels, edges)
    ]
    return _draw(strata, per_stratum, seed, edges, sizes)


def event_strata(
    detections: SurveyDetections, labels: Sequence[str], edges: Sequence[float]
) -> list[tuple[tuple[str, int], npt.NDArray[np.intp]]]:
    """Per stratum ``(species, bin)`` in :func:`draw_sample`'s order, its events (indices into
    ``detections.events``) sorted as :func:`draw_sample` sorts its rows: by the recording's
    path as text, then start and end.
    """
    events = detections.events
    if not len(events):
        return []
    probability = np.asarray(events.max_prob, dtype=np.float64)
    bins = np.searchsorted(np.asarray(edges, dtype=np.float64), probability, side="right") - 1
    bins = np.clip(bins, 0, len(edges) - 2)
    # Ranks of texts: numpy orders strings by code point, as Python's str comparison does.
    path_rank = np.unique([str(p) for p in detections.paths], return_inverse=True)[1]
    label_rank = np.unique(list(labels), return_inverse=True)[1]
    species = label_rank[events.label_index]
    order = np.lexsort(
        (events.end_s, events.start_s, path_rank[detections.recording_index], bins, species)
    )
    groups = species[order].astype(np.int64) * len(edges) + bins[order]
    starts = np.flatnonzero(np.diff(groups, prepend=-1))
    ends = np.append(starts[1:], len(order))
    return [
        (
            (labels[int(events.label_index[order[a]])], int(bins[order[a]])),
            order[a:b].astype(np.intp),
        )
        for a, b in zip(starts.tolist(), ends.tolist(), strict=True)
    ]


def _key_of_row(row: DetectionRow) -> SampleKey:
    return SampleKey(row.path, row.species_auto, row.start_s, row.end_s)


def _draw(
    strata: Sequence[tuple[tuple[str, int], int, Callable[[int], SampleKey]]],
    per_stratum: int,
    seed: int,
    edges: tuple[float, ...],
    sizes: Mapping[tuple[str, int], int] | None,
) -> VerificationSample:
    """From each stratum ``((species, bin), members, key of member i)``: its size, chosen by a
    generator seeded by ``(seed, species, bin)``.
    """
    if per_stratum < 0 or any(n < 0 for n in (sizes or {}).values()):
        raise SampleError("sample sizes must not be negative")
    keys: list[SampleKey] = []
    for (species, k), members, key_of in strata:
        size = min((sizes or {}).get((species, k), per_stratum), members)
        rng = np.random.default_rng([seed, zlib.crc32(species.encode("utf-8")), k])
        chosen = sorted(rng.choice(members, size=size, replace=False).tolist())
        keys.extend(key_of(i) for i in chosen)
    created = dt.datetime.now().astimezone().replace(microsecond=0).isoformat()
    return VerificationSample(tuple(keys), edges, per_stratum, seed, created)


# -- kept in the store ----------------------------------------------------------------------------


def sample_json(sample: VerificationSample, key: Callable[[Path], str] = str) -> str:
    """The JSON a sample is kept as (paths through ``key``: the store's portable keys)."""
    return json.dumps(
        {
            "format": SAMPLE_FORMAT,
            "version": SAMPLE_VERSION,
            "edges": list(sample.edges),
            "per_stratum": sample.per_stratum,
            "seed": sample.seed,
            "created_at": sample.created_at,
            "detections": [
                {"path": key(k.path), "species": k.species, "start_s": k.start_s, "end_s": k.end_s}
                for k in sample.keys
            ],
        },
        indent=1,
    )


def parse_sample(text: str, path_of: Callable[[str], Path] = Path) -> VerificationSample:
    """A sample from :func:`sample_json`'s text. Raises :class:`SampleError`."""
    try:
        document = json.loads(text)
        if document.get("format") != SAMPLE_FORMAT:
            raise SampleError("not a verification sample")
        if int(document.get("version", 0)) > SAMPLE_VERSION:
            raise SampleError("a verification sample of a newer bsgbat-gui")
        keys = tuple(
            SampleKey(path_of(str(d["path"])), str(d["species"]), float(d["start_s"]),
                      float(d["end_s"]))
            for d in document["detections"]
        )  # fmt: skip
        return VerificationSample(
            keys,
            check_edges(document["edges"]),
            int(document["per_stratum"]),
            int(document["seed"]),
            str(document.get("created_at", "")),
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        if isinstance(exc, SampleError):
            raise
        raise SampleError(f"stored verification sample unreadable ({exc})") from None


def save_sample(store: ReviewStore, sample: VerificationSample) -> None:
    """Queue ``sample`` for review: keep it in the store (replacing any earlier one)."""
    store.set_meta(SAMPLE_META_KEY, sample_json(sample, store.key))


def load_sample(store: ReviewStore) -> VerificationSample | None:
    """The store's queued sample, if any. Raises :class:`SampleError` when unreadable."""
    text = store.get_meta(SAMPLE_META_KEY)
    return parse_sample(text, store.path_of) if text else None


def sample_mask(
    sample: VerificationSample, detections: SurveyDetections, labels: Sequence[str]
) -> npt.NDArray[np.bool_]:
    """Which of ``detections``' events are in ``sample`` (the same recording, species and
    span, as :meth:`SampleKey.matches`): what the window's "In the sample" filter shows. A
    sampled detection no longer among the events (the thresholds moved) is not shown.
    """
    events = detections.events
    mask = np.zeros(len(events), dtype=bool)
    wanted: dict[tuple[int, int], list[tuple[float, float]]] = {}
    label_of = {label: k for k, label in enumerate(labels)}
    for key in sample.keys:
        recording, label = detections.index_of(key.path), label_of.get(key.species)
        if recording is not None and label is not None:
            wanted.setdefault((recording, label), []).append((key.start_s, key.end_s))
    if not wanted or not len(events):
        return mask
    pair = detections.recording_index.astype(np.int64) * len(labels) + events.label_index
    candidates = np.flatnonzero(np.isin(pair, [r * len(labels) + k for r, k in wanted]))
    for e in candidates.tolist():
        spans = wanted[(int(detections.recording_index[e]), int(events.label_index[e]))]
        start, end = float(events.start_s[e]), float(events.end_s[e])
        mask[e] = any(
            abs(start - s) <= _SPAN_TOLERANCE_S and abs(end - t) <= _SPAN_TOLERANCE_S
            for s, t in spans
        )
    return mask


# -- the estimator --------------------------------------------------------------------------------


@dataclass(frozen=True)
class StratumCount:
    """One stratum of a species: its detections, sampled ones, decided and confirmed ones."""

    low: float
    high: float
    detections: int
    sampled: int
    decided: int
    confirmed: int


@dataclass(frozen=True)
class PrecisionEstimate:
    """A species' precision (share of its detections that are right), its 95 % interval, and the
    estimated number of true passes. ``method``: "sample" (stratified estimate), "decisions"
    (confirmed share of all decisions, not a random sample) or "none".
    """

    species: str
    detections: int
    decided: int
    confirmed: int
    precision: float | None
    low: float | None
    high: float | None
    method: str
    strata: tuple[StratumCount, ...] = ()

    @property
    def true_passes(self) -> float | None:
        """Estimated detections that are right: precision × detections."""
        return None if self.precision is None else self.precision * self.detections

    @property
    def true_passes_interval(self) -> tuple[float, float] | None:
        """The interval × detections."""
        if self.low is None or self.high is None:
            return None
        return self.low * self.detections, self.high * self.detections


def _is_confirmed(row: DetectionRow) -> bool:
    return row.status == STATUS_CONFIRMED


def stratified_estimate(
    species: str, strata: Sequence[StratumCount], z: float = Z_95
) -> PrecisionEstimate:
    """The stratified precision and its interval from per-stratum counts (module docstring)."""
    total = sum(s.detections for s in strata)
    decided = sum(s.decided for s in strata)
    confirmed = sum(s.confirmed for s in strata)
    if total == 0:
        return PrecisionEstimate(species, 0, decided, confirmed, None, None, None, METHOD_SAMPLE,
                                 tuple(strata))  # fmt: skip
    known = point = adjusted_point = variance = 0.0
    for s in strata:
        if s.detections == 0 or s.decided == 0:
            continue
        weight = s.detections / total
        known += weight
        share = s.confirmed / s.decided
        fpc = max(0.0, 1.0 - s.decided / s.detections)
        adjusted = (s.confirmed + z * z / 2) / (s.decided + z * z)
        point += weight * share
        adjusted_point += weight * adjusted
        variance += weight * weight * fpc * adjusted * (1 - adjusted) / s.decided
    if known == 0:
        return PrecisionEstimate(species, total, decided, confirmed, None, 0.0, 1.0,
                                 METHOD_SAMPLE, tuple(strata))  # fmt: skip
    # The reviewed strata as a population of their own (all of it when every stratum is).
    share = point / known
    adjusted_share = adjusted_point / known
    variance /= known * known
    if variance <= 0:  # every reviewed stratum reviewed entirely: exact
        low = high = share
    else:
        low, high = wilson_interval_n(share, adjusted_share * (1 - adjusted_share) / variance, z)
    unknown = 1.0 - known
    precision = share if unknown < 1e-12 else None
    low, high = low * known, min(1.0, high * known + unknown)
    return PrecisionEstimate(species, total, decided, confirmed, precision, low, high,
                             METHOD_SAMPLE, tuple(strata))  # fmt: skip


def wilson_interval_n(share: float, n: float, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of a proportion ``share`` observed on ``n`` (a real number: an
    effective sample size); (0, 1) when ``n`` is not positive.
    """
    if not n > 0:
        return 0.0, 1.0
    denominator = 1 + z * z / n
    centre = (share + z * z / (2 * n)) / denominator
    half = z * math.sqrt(max(0.0, share * (1 - share)) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, min(share, centre - half)), min(1.0, max(share, centre + half))


def estimate_precision(
    rows: Iterable[DetectionRow], sample: VerificationSample, z: float = Z_95
) -> dict[str, PrecisionEstimate]:
    """Per detected species, the stratified precision of ``sample`` over all detections in
    ``rows`` (at the current thresholds: sampled detections these thresholds no longer make are
    not counted).
    """
    edges = sample.edges
    by_recording: dict[tuple[Path, str], list[SampleKey]] = {}
    for key in sample.keys:
        by_recording.setdefault((key.path, key.species), []).append(key)
    counts: dict[str, list[StratumCount]] = {}
    strata = _strata(rows, edges)
    species_all = sorted({s for s, _ in strata})
    for species in species_all:
        per: list[StratumCount] = []
        for k in range(len(edges) - 1):
            members = strata.get((species, k), [])
            sampled = [
                r
                for r in members
                if any(key.matches(r) for key in by_recording.get((r.path, species), ()))
            ]
            decided = [r for r in sampled if r.status in DECISION_STATUSES]
            per.append(
                StratumCount(edges[k], edges[k + 1], len(members), len(sampled), len(decided),
                             sum(_is_confirmed(r) for r in decided))
            )  # fmt: skip
        counts[species] = per
    return {species: stratified_estimate(species, per, z) for species, per in counts.items()}


def precision_from_decisions(rows: Iterable[DetectionRow]) -> dict[str, PrecisionEstimate]:
    """Per detected species, the confirmed share of its decided detections with a Wilson 95 %
    interval (not a random sample: see the module docstring).
    """
    detections: dict[str, int] = {}
    decided: dict[str, int] = {}
    confirmed: dict[str, int] = {}
    for row in population(rows):
        species = row.species_auto
        detections[species] = detections.get(species, 0) + 1
        if row.status in DECISION_STATUSES:
            decided[species] = decided.get(species, 0) + 1
            confirmed[species] = confirmed.get(species, 0) + _is_confirmed(row)
    out: dict[str, PrecisionEstimate] = {}
    for species in sorted(detections):
        n, x = decided.get(species, 0), confirmed.get(species, 0)
        if n == 0:
            out[species] = PrecisionEstimate(species, detections[species], 0, 0, None, None,
                                             None, METHOD_NONE)  # fmt: skip
            continue
        low, high = wilson_interval(x, n)
        out[species] = PrecisionEstimate(species, detections[species], n, x, x / n, low, high,
                                         METHOD_DECISIONS)  # fmt: skip
    return out
