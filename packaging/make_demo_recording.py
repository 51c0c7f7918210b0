"""Write resources/demo/bsgbat-demo-synthesised-calls.wav: the demo recording the app offers.

It is **synthesised**, not recorded (so it can be redistributed with the app), and says so in its
GUANO metadata and in the window: three made-up passes shaped like common European bat calls, in
faint noise, 3 s at 384 kHz (the models' rate, so the whole 9–150 kHz band is recorded):

* 0.2–1.8 s: a pipistrelle-like pass: FM-QCF calls ending near 46 kHz, 6 ms, every 85 ms,
  louder as the "bat" passes the microphone;
* 1.0–2.9 s: a noctule-like pass: shallow QCF calls 25 -> 19 kHz, 18 ms, every 260 ms;
* 2.3–2.5 s: a short Myotis-like burst: steep FM 95 -> 30 kHz, 3 ms, every 40 ms.

Run from the repository root: ``python packaging/make_demo_recording.py``. The output is
deterministic (seeded); the committed file is the one the app ships.
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

import numpy as np
import soundfile

RATE_HZ = 384_000
SECONDS = 3.0
OUT = (
    Path(__file__).resolve().parent.parent
    / "resources"
    / "demo"
    / "bsgbat-demo-synthesised-calls.wav"
)
GUANO = {
    "GUANO|Version": "1.0",
    "Make": "bsgbat-gui",
    "Model": "synthesised demo",
    "Note": "Synthesised bat-like calls made by packaging/make_demo_recording.py: "
    "not a real recording, no real species",
    "Samplerate": str(RATE_HZ),
    "Length": f"{SECONDS:.3f}",
    "Timestamp": "2026-07-01T22:45:00+01:00",
}


def sweep(f_start: float, f_end: float, seconds: float, *, curve: float = 1.0) -> np.ndarray:
    """A call whose frequency goes f_start -> f_end; ``curve`` > 1 bends it towards f_end early
    (a hockey-stick FM-QCF shape), 1 is linear."""
    n = int(seconds * RATE_HZ)
    u = np.arange(n) / n
    freq = f_end + (f_start - f_end) * (1.0 - u) ** curve
    phase = 2 * np.pi * np.cumsum(freq) / RATE_HZ
    envelope = np.sin(np.pi * u) ** 0.7
    return (np.sin(phase) + 0.15 * np.sin(2 * phase)) * envelope


def add_pass(x: np.ndarray, call: np.ndarray, start_s: float, end_s: float, every_s: float,
             peak: float, rng: np.random.Generator) -> None:  # fmt: skip
    times = np.arange(start_s, end_s, every_s)
    middle = (start_s + end_s) / 2
    for t in times:
        t_jit = t + rng.uniform(-0.004, 0.004)
        loudness = peak * np.exp(-(((t_jit - middle) / ((end_s - start_s) / 3)) ** 2))
        i = int(t_jit * RATE_HZ)
        x[i : i + len(call)] += loudness * call[: len(x) - i]


def synthesise() -> np.ndarray:
    rng = np.random.default_rng(2026)
    n = int(SECONDS * RATE_HZ)
    # Faint noise, a little louder at low frequency (wind, insects).
    white = rng.standard_normal(n)
    low = np.convolve(white, np.ones(32) / 32, mode="same")
    x = 0.0015 * white + 0.01 * low
    add_pass(x, sweep(75_000, 46_000, 0.006, curve=4.0), 0.2, 1.8, 0.085, 0.5, rng)
    add_pass(x, sweep(25_000, 19_000, 0.018, curve=2.0), 1.0, 2.9, 0.26, 0.6, rng)
    add_pass(x, sweep(95_000, 30_000, 0.003), 2.3, 2.5, 0.04, 0.35, rng)
    return np.clip(x, -1.0, 1.0)


def guano_chunk() -> bytes:
    text = "\n".join(f"{k}: {v}" for k, v in GUANO.items()).encode("utf-8")
    if len(text) % 2:
        text += b"\n"
    return b"guan" + struct.pack("<I", len(text)) + text


def main() -> int:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(str(OUT), synthesise(), RATE_HZ, subtype="PCM_16")
    data = bytearray(OUT.read_bytes())
    data += guano_chunk()
    struct.pack_into("<I", data, 4, len(data) - 8)  # RIFF size now includes the guan chunk
    OUT.write_bytes(bytes(data))
    sys.stdout.write(f"wrote {OUT} ({len(data) / 1e6:.2f} MB)\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
