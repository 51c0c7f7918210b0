"""Opening a recording: true sample rate, time expansion, metadata, and block-wise 384 kHz samples.

A :class:`RecordingInfo` says what a file is (probed once, cheaply); a :class:`ModelRateSignal`
reads any range of the 384 kHz mono signal the model card's ``librosa.load`` would produce,
without ever loading the whole file.
"""

from __future__ import annotations

import errno
import logging
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from bsgbat_gui.core.audio import resample
from bsgbat_gui.core.audio.metadata import RecordingMetadata, read_metadata, read_riff_layout
from bsgbat_gui.core.model_card import FMAX_HZ, MODEL_SAMPLE_RATE_HZ, RESAMPLER_FILTER

if TYPE_CHECKING:
    import soundfile

log = logging.getLogger(__name__)

# Header rates below this are audio rates: such a file holds time-expanded ultrasound (or no
# ultrasound at all). At or above it, a time-expansion flag is stale and ignored.
TIME_EXPANSION_HEADER_LIMIT_HZ = 100_000
ASSUMED_TIME_EXPANSION = 10
# Header rates a recording can have. Below 4 kHz not even a x10 time-expanded file holds
# ultrasound (4 kHz x 10 = 40 kHz true); above 2 MHz no bat recorder samples. Outside them the
# header is damaged: a 0.5 s clip claiming 1 Hz would pass for a 5-hour recording.
MIN_HEADER_RATE_HZ = 4_000
MAX_HEADER_RATE_HZ = 2_000_000
# Float samples are audio in ±1 (some tools scale them like integers, to ±32768 or ±2^31).
# Beyond this a float file is damaged or not audio: its spectrogram would overflow.
FLOAT_SAMPLE_LIMIT = 1e10
_FLOAT_SUBTYPES = {"FLOAT", "DOUBLE"}

LOSSLESS_EXTENSIONS = (".wav", ".flac")
# Lossy files are picked up by folder scans too, so the user is told why they are a problem
# instead of having them silently skipped.
LOSSY_EXTENSIONS = (".mp3", ".ogg", ".oga", ".opus", ".m4a", ".aac", ".wma")
RECORDING_EXTENSIONS = LOSSLESS_EXTENSIONS + LOSSY_EXTENSIONS

_LOSSY_SUBTYPES = {
    "MPEG_LAYER_I",
    "MPEG_LAYER_II",
    "MPEG_LAYER_III",
    "VORBIS",
    "OPUS",
    "GSM610",
    "IMA_ADPCM",
    "MS_ADPCM",
    "VOX_ADPCM",
    "G721_32",
    "G723_24",
    "G723_40",
    "NMS_ADPCM_16",
    "NMS_ADPCM_24",
    "NMS_ADPCM_32",
    "ULAW",
    "ALAW",
}


class RecordingError(Exception):
    """A recording cannot be opened or read; the message is one line meant for the user."""


def display_path(path: Path | str) -> str:
    r"""``path`` as one printable line: bytes that are not UTF-8 as ``\xff``, control
    characters (a newline in a file name) escaped, so every message stays one line.
    """
    text = os.fsencode(path).decode("utf-8", "backslashreplace")
    return "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text
    )


def name_problem(path: Path) -> str | None:
    """Why ``path``'s name cannot be used (its recording can't be stored or exported), if so."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        return (
            "its name is not valid UTF-8 text, which the review store and the exports need: "
            "rename the file (e.g. with convmv)"
        )
    return None


@dataclass(frozen=True)
class RecordingInfo:
    """What a recording file is, in real (true-rate) terms.

    ``header_rate_hz`` is what the file header says; ``true_rate_hz`` = header rate × TE is the
    rate the sound was recorded at. All durations and times in the application are real time.
    """

    path: Path
    header_rate_hz: int
    channels: int
    header_frames: int
    format: str
    subtype: str
    time_expansion: float
    time_expansion_source: str  # "none" | "guano" | "wamd" | "assumed" | "override"
    metadata: RecordingMetadata = field(default_factory=RecordingMetadata)
    warnings: tuple[str, ...] = ()

    @property
    def true_rate_hz(self) -> int:
        """The rate the sound was recorded at: header rate × time expansion."""
        return round(self.header_rate_hz * self.time_expansion)

    @property
    def duration_s(self) -> float:
        """Real duration in seconds (header duration ÷ TE)."""
        return self.header_frames / self.true_rate_hz

    @property
    def model_rate_frames(self) -> int:
        """Length of the signal once resampled to the model's 384 kHz (as librosa pads it)."""
        return resample.resampled_length(
            self.header_frames, input_rate_hz=self.true_rate_hz, output_rate_hz=MODEL_SAMPLE_RATE_HZ
        )

    @property
    def is_time_expanded(self) -> bool:
        """Whether the file holds slowed-down (time-expanded) sound."""
        return self.time_expansion != 1

    @property
    def needs_resampling(self) -> bool:
        """Whether the true rate differs from the model's 384 kHz."""
        return self.true_rate_hz != MODEL_SAMPLE_RATE_HZ


def find_recordings(paths: list[Path]) -> tuple[list[Path], list[str]]:
    """Expand files and folders (recursively) into recording paths, in a stable order.

    Returns the recordings and one message per path that does not exist. Hidden files and
    macOS "._" resource forks (left on SD cards copied from a Mac) are skipped.
    """
    found: list[Path] = []
    missing: list[str] = []
    for path in paths:
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if name.startswith(".") or not name.lower().endswith(RECORDING_EXTENSIONS):
                        continue
                    found.append(Path(root) / name)
        elif path.exists() or path.is_symlink():
            found.append(path)
        else:
            missing.append(f"{display_path(path)}: no such file or folder")
    return found, missing


def _open_soundfile(path: Path) -> soundfile.SoundFile:
    import soundfile

    try:
        return soundfile.SoundFile(str(path))
    except soundfile.LibsndfileError as exc:
        raise RecordingError(_describe_unreadable(path, str(exc))) from None
    except PermissionError:
        raise RecordingError("permission denied") from None
    except FileNotFoundError:
        raise RecordingError("file not found (moved, deleted, or a broken link)") from None
    except OSError as exc:
        raise RecordingError(f"cannot be read ({exc.strerror or exc})") from None


def _describe_unreadable(path: Path, libsndfile_message: str) -> str:
    suffix = path.suffix.lower()
    if suffix in (".m4a", ".aac", ".wma"):
        return (
            f"{suffix[1:].upper()} files cannot be read; bat recordings must be lossless "
            "WAV or FLAC (lossy codecs discard ultrasound)"
        )
    with path.open("rb") as f:
        head = f.read(12)
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return f"damaged or unsupported WAV ({libsndfile_message.split(':')[-1].strip()})"
    return "not an audio file (no WAV or FLAC header)"


def probe_recording(path: Path, *, time_expansion: float | None = None) -> RecordingInfo:
    """Read a recording's header and metadata (not its samples).

    Parameters
    ----------
    time_expansion
        Overrides whatever the file says (``--time-expansion``).

    Raises
    ------
    RecordingError
        With a one-line reason when the file cannot be used at all.
    """
    problem = name_problem(path)
    if problem is not None:
        raise RecordingError(problem)
    try:
        st = path.stat()
    except FileNotFoundError:
        raise RecordingError("file not found (moved, deleted, or a broken link)") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise RecordingError("a link loop (links that point to each other)") from None
        raise RecordingError(f"cannot be read ({exc.strerror or exc})") from None
    if stat.S_ISDIR(st.st_mode):
        raise RecordingError("is a folder, not a recording")
    if not stat.S_ISREG(st.st_mode):
        raise RecordingError("not a regular file (a pipe, socket or device), not a recording")
    if st.st_size == 0:
        raise RecordingError("empty file (0 bytes)")
    if not os.access(path, os.R_OK):
        raise RecordingError("permission denied")

    with _open_soundfile(path) as sf:
        header_rate = int(sf.samplerate)
        channels = int(sf.channels)
        frames = int(sf.frames)
        fmt, subtype = str(sf.format), str(sf.subtype)
    if frames <= 0:
        raise RecordingError("holds no audio samples")
    if not MIN_HEADER_RATE_HZ <= header_rate <= MAX_HEADER_RATE_HZ:
        raise RecordingError(
            f"the header's sample rate, {header_rate} Hz, is impossible for a recording "
            f"(expected {MIN_HEADER_RATE_HZ // 1000} kHz to {MAX_HEADER_RATE_HZ // 1_000_000} "
            "MHz): a damaged header"
        )

    warnings: list[str] = []
    try:
        layout = read_riff_layout(path)
    except OSError as exc:
        layout = None
        warnings.append(f"chunk list unreadable ({exc}); metadata ignored")
    metadata = read_metadata(path, layout)
    warnings.extend(metadata.warnings)
    if layout is not None and layout.data_bytes_missing > 0:
        warnings.append(
            "truncated: the header promises more audio than the file holds; "
            f"analysing the {frames / header_rate:.3f} s present (header time)"
        )

    te, te_source = _decide_time_expansion(header_rate, metadata, time_expansion, warnings)
    if subtype in _LOSSY_SUBTYPES or fmt in ("MPEG", "OGG"):
        warnings.append(f"lossy codec ({subtype}): ultrasound is damaged or lost; use WAV or FLAC")
    true_rate = header_rate * te
    nyquist_hz = true_rate / 2
    if nyquist_hz < FMAX_HZ:
        warnings.append(
            f"true sample rate {true_rate / 1000:g} kHz: nothing above {nyquist_hz / 1000:g} kHz "
            f"was recorded, so the model's band up to {FMAX_HZ / 1000:g} kHz is partly empty"
        )
    if channels > 1:
        log.debug("%s: %d channels mixed to mono", path, channels)

    return RecordingInfo(
        path=path,
        header_rate_hz=header_rate,
        channels=channels,
        header_frames=frames,
        format=fmt,
        subtype=subtype,
        time_expansion=te,
        time_expansion_source=te_source,
        metadata=metadata,
        warnings=tuple(warnings),
    )


def _decide_time_expansion(
    header_rate_hz: int,
    metadata: RecordingMetadata,
    override: float | None,
    warnings: list[str],
) -> tuple[float, str]:
    if override is not None:
        return float(override), "override"
    stated: tuple[float, str] | None = None
    if metadata.guano_time_expansion is not None:
        stated = (metadata.guano_time_expansion, "guano")
    elif metadata.wamd_time_expansion is not None:
        stated = (float(metadata.wamd_time_expansion), "wamd")

    if header_rate_hz >= TIME_EXPANSION_HEADER_LIMIT_HZ:
        if stated is not None and stated[0] != 1:
            warnings.append(
                f"ignored time-expansion ×{stated[0]:g} from {stated[1]} metadata: the file is "
                f"already at {header_rate_hz} Hz (a stale flag)"
            )
        return 1.0, "none"
    if stated is not None:
        return stated
    warnings.append(
        f"header rate {header_rate_hz} Hz with no time-expansion metadata: assumed "
        f"×{ASSUMED_TIME_EXPANSION} (true rate {header_rate_hz * ASSUMED_TIME_EXPANSION} Hz); "
        "use --time-expansion to override"
    )
    return float(ASSUMED_TIME_EXPANSION), "assumed"


class ModelRateSignal:
    """Random access to the mono 384 kHz float32 signal the card's ``librosa.load`` returns.

    ``read(start, stop)`` returns samples ``[start, stop)`` of that signal, zeros outside
    ``[0, n_samples)``. Mono is the mean of the channels; other rates are resampled with the
    card's resampler, block-wise (:mod:`bsgbat_gui.core.audio.resample`). Memory is
    proportional to the requested range, never to the file.
    """

    def __init__(self, info: RecordingInfo) -> None:
        self.info = info
        self.n_samples = info.model_rate_frames
        self._file = _open_soundfile(info.path)
        # libsndfile may report fewer frames on reopening if the file changed; trust the probe
        # but never read past what is there.
        self._n_input = min(info.header_frames, int(self._file.frames))
        self._check_samples = info.subtype in _FLOAT_SUBTYPES

    def close(self) -> None:
        """Close the underlying sound file."""
        self._file.close()

    def __enter__(self) -> ModelRateSignal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def read_true_rate(self, start: int, stop: int) -> np.ndarray:
        """Mono float32 input samples ``[start, stop)`` at the true rate (clipped to the file)."""
        import soundfile

        start, stop = max(0, start), min(self._n_input, stop)
        if stop <= start:
            return np.zeros(0, dtype=np.float32)
        try:
            self._file.seek(start)
            block = self._file.read(frames=stop - start, dtype="float32", always_2d=True)
        except (soundfile.LibsndfileError, RuntimeError, OSError) as exc:
            raise RecordingError(f"read failed at sample {start} ({exc})") from None
        if self._check_samples:
            _check_float_samples(block, start, self.info.header_rate_hz)
        # librosa.to_mono: the mean over channels, in float32.
        mono = np.asarray(
            block[:, 0] if block.shape[1] == 1 else block.mean(axis=1, dtype=np.float32)
        )
        if len(mono) < stop - start:  # a file truncated after probing: pad, don't fail
            mono = np.concatenate([mono, np.zeros(stop - start - len(mono), np.float32)])
        return np.ascontiguousarray(mono, dtype=np.float32)

    def read(self, start: int, stop: int) -> np.ndarray:
        """Samples ``[start, stop)`` of the 384 kHz signal, float32, zero outside the signal."""
        out = np.zeros(max(0, stop - start), dtype=np.float32)
        lo, hi = max(start, 0), min(stop, self.n_samples)
        if hi <= lo:
            return out
        if not self.info.needs_resampling:
            out[lo - start : hi - start] = self.read_true_rate(lo, hi)
            return out
        rate_in = self.info.true_rate_hz
        in_start, in_stop = resample.input_span_for_output(
            lo,
            hi,
            n_input=self._n_input,
            input_rate_hz=rate_in,
            output_rate_hz=MODEL_SAMPLE_RATE_HZ,
            filter_name=RESAMPLER_FILTER,
        )
        block = self.read_true_rate(in_start, in_stop)
        out[lo - start : hi - start] = resample.resample_span(
            block,
            input_offset=in_start,
            out_start=lo,
            out_stop=hi,
            n_input=self._n_input,
            input_rate_hz=rate_in,
            output_rate_hz=MODEL_SAMPLE_RATE_HZ,
            filter_name=RESAMPLER_FILTER,
        )
        return out


def _check_float_samples(block: np.ndarray, start: int, header_rate_hz: int) -> None:
    """A float file's samples must be numbers of audio size (integer files always are)."""
    finite = np.isfinite(block)
    where = f"at {start / header_rate_hz:.3f} s (header time)"
    if not finite.all():
        raise RecordingError(
            f"holds NaN or infinite sample values {where}: a damaged float WAV, not analysed"
        )
    peak = float(np.abs(block).max(initial=0.0))
    if peak > FLOAT_SAMPLE_LIMIT:
        raise RecordingError(
            f"holds sample values up to {peak:.3g} {where}, far outside the ±1 of audio: a "
            "damaged or mis-scaled float WAV, not analysed"
        )


def read_real_span(info: RecordingInfo, start_s: float, end_s: float) -> np.ndarray:
    """Mono float32 samples at the recording's true rate between two real times (clipped to the
    recording): what was recorded, for listening (playback, clips), not resampled.
    """
    rate = info.true_rate_hz
    start = max(0, round(start_s * rate))
    stop = min(info.header_frames, round(end_s * rate))
    with ModelRateSignal(info) as signal:
        return signal.read_true_rate(start, stop)
