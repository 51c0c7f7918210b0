"""The settings of call measurement, in one frozen dataclass that round-trips through a dict.

The defaults follow Tadarida-D's detection, so that its call tables and ours can be compared
call by call: its grid (a 256-sample window zero-padded to a 512-point FFT at 384 kHz — 0.667 ms,
0.75 kHz bins — with a hop of 1/6 ms; other true rates keep the lengths in milliseconds), and
its seed and stop thresholds (26 and 20 dB above each frequency's 5th percentile), restated
above the median (which is about 11 dB above the 5th percentile in noise) since a median
is not pulled down by quiet stretches. ``README.md`` ("Call measurement") explains each setting.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

SETTINGS_FORMAT = "bsgbat-gui call settings"
SETTINGS_VERSION = 1


class CallSettingsError(ValueError):
    """Settings that cannot be used; the message names the setting and what it must be."""


@dataclass(frozen=True)
class CallSettings:
    """How calls are found and measured (all lengths in real time, frequencies in real kHz).

    Attributes
    ----------
    fmin_khz, fmax_khz
        The analysis band. Its top is clipped at the recording's Nyquist frequency.
    threshold_db
        A call starts from a time–frequency cell at least this far above its frequency's noise
        floor ...
    extend_db
        ... and takes in every cell connected to it that is at least this far above the floor
        (the hysteresis keeps a call's weaker start, end and sweep attached to it).
    bridge_ms
        Cells this close in time (same or adjacent frequency bin) are connected: a call faded
        for an instant, or an FM sweep faster than the frame grid, stays one call.
    min_duration_ms
        Shorter events are not calls (clicks, noise spikes).
    edge_db
        Fmax and Fmin are the highest and lowest frequencies of the call within this many dB
        of its peak (the "−X dB" of the band edges).
    min_level_db
        A call's loudest cell must reach this level (dB re full scale): a 16-bit recording's
        own quantisation noise lies below it, so a quiet file's silence (whose floor is only a
        few bits) is not measured as calls.
    noise_percentile
        The noise floor of a frequency is this percentile of its level over a noise block: low
        enough that calls (present in a minority of each frequency's frames) do not raise it.
    noise_block_s
        The stretch over which the floor is estimated, which is also how much of the recording
        is processed at a time: a floor follows the noise as it changes through a night.
    window_ms, hop_ms
        The STFT's Hann window and hop; the FFT is zero-padded to about twice the window (bins
        of 0.75 kHz for the default window at 384 kHz, as Tadarida-D's).
    """

    fmin_khz: float = 9.0
    fmax_khz: float = 150.0
    threshold_db: float = 14.0
    extend_db: float = 10.0
    bridge_ms: float = 0.8
    min_duration_ms: float = 0.5
    edge_db: float = 20.0
    min_level_db: float = -90.0
    noise_percentile: float = 50.0
    noise_block_s: float = 10.0
    window_ms: float = 0.667
    hop_ms: float = 0.1667

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise CallSettingsError(f"{f.name} must be a number, not {value!r}")
            if not math.isfinite(value):
                raise CallSettingsError(f"{f.name} must be a finite number, not {value!r}")
            object.__setattr__(self, f.name, float(value))
        _check(self.fmin_khz >= 0, "fmin_khz must be 0 kHz or more")
        _check(
            self.fmax_khz > self.fmin_khz,
            f"fmax_khz ({self.fmax_khz:g}) must be above fmin_khz ({self.fmin_khz:g})",
        )
        _check(self.threshold_db > 0, "threshold_db must be greater than 0 dB")
        _check(
            0 < self.extend_db <= self.threshold_db,
            f"extend_db must be greater than 0 and at most threshold_db ({self.threshold_db:g})",
        )
        _check(self.bridge_ms >= 0, "bridge_ms must be 0 ms or more")
        _check(self.min_duration_ms >= 0, "min_duration_ms must be 0 ms or more")
        _check(self.edge_db > 0, "edge_db must be greater than 0 dB")
        _check(self.min_level_db <= 0, "min_level_db must be 0 dB (full scale) or less")
        _check(0 < self.noise_percentile < 100, "noise_percentile must be between 0 and 100")
        _check(
            0.05 <= self.window_ms <= 20,
            f"window_ms must be between 0.05 and 20 ms, not {self.window_ms:g}",
        )
        _check(
            0 < self.hop_ms <= self.window_ms,
            f"hop_ms must be greater than 0 and at most window_ms ({self.window_ms:g})",
        )
        _check(
            self.noise_block_s >= 0.5,
            f"noise_block_s must be 0.5 s or more, not {self.noise_block_s:g}",
        )

    def to_dict(self) -> dict[str, Any]:
        """The settings as a JSON-ready dict, tagged with a format name and version."""
        return {"format": SETTINGS_FORMAT, "version": SETTINGS_VERSION, **asdict(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CallSettings:
        """Settings from :meth:`to_dict`'s dict; settings it does not list keep their defaults.

        Raises
        ------
        CallSettingsError
            For an unknown setting, a newer version, or a value out of range.
        """
        if not hasattr(data, "items"):
            raise CallSettingsError(f"call settings must be a mapping, not {type(data).__name__}")
        values = dict(data)
        fmt = values.pop("format", SETTINGS_FORMAT)
        version = values.pop("version", SETTINGS_VERSION)
        if fmt != SETTINGS_FORMAT:
            raise CallSettingsError(f"not call settings (format {fmt!r})")
        if not isinstance(version, int) or version > SETTINGS_VERSION:
            raise CallSettingsError(
                f"call settings version {version!r} is newer than this program reads "
                f"({SETTINGS_VERSION})"
            )
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise CallSettingsError(
                f"unknown call setting(s): {', '.join(map(str, unknown))} "
                f"(known: {', '.join(sorted(known))})"
            )
        return cls(**values)


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise CallSettingsError(message)
