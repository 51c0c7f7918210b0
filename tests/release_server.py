"""A fake BSG-BAT release on a loopback HTTP server, with faults on demand.

The release is built by the test (tiny band-energy test models, padded so a download takes more
than one read, plus labels and ``SHA256SUMS``); the server listens on 127.0.0.1 on a random port.
No test touches the internet.
"""

from __future__ import annotations

import hashlib
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

import onnx
from model_factory import write_model_set

from bsgbat_gui.core.model_card import LABELS_FILENAME, MODEL_FILENAMES

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

PADDING_BYTES = 400_000  # each model ~0.4 MB: many 256 kB chunks... and room to cut a file


def build_release(folder: Path) -> Path:
    """Six padded test models + labels + SHA256SUMS, as on the real release."""
    write_model_set(folder)
    sums = []
    for i, name in enumerate(MODEL_FILENAMES):
        model = onnx.load(str(folder / name))
        model.doc_string = f"test device {i}, not a classifier " + "." * PADDING_BYTES
        onnx.save(model, str(folder / name))
        sums.append(f"{hashlib.sha256((folder / name).read_bytes()).hexdigest()}  {name}")
    labels = (folder / LABELS_FILENAME).read_bytes()
    sums.append(f"{hashlib.sha256(labels).hexdigest()}  {LABELS_FILENAME}")
    (folder / "SHA256SUMS").write_text("\n".join(sums) + "\n", encoding="utf-8")
    return folder


@dataclass
class ServerState:
    root: Path
    # name -> "drop-once" | "drop-always" | "corrupt" | "404" | "500" | "ignore-range"
    faults: dict[str, str] = field(default_factory=dict)
    requests: list[tuple[str, str | None]] = field(default_factory=list)  # (name, Range header)
    dropped: set[str] = field(default_factory=set)


def _handler(state: ServerState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            prefix = "/release/"
            name = self.path[len(prefix) :] if self.path.startswith(prefix) else ""
            range_header = self.headers.get("Range")
            state.requests.append((name, range_header))
            fault = state.faults.get(name, "")
            path = state.root / name
            if fault in ("404", "500"):
                self.send_error(int(fault))
                return
            if not name or not path.is_file():
                self.send_error(404)
                return
            data = path.read_bytes()
            if fault == "corrupt":
                data = data[:1000] + bytes([data[1000] ^ 0xFF]) + data[1001:]
            start = 0
            if range_header and fault != "ignore-range":
                start = int(range_header.removeprefix("bytes=").split("-")[0])
                if start >= len(data):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(data)}")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            else:
                self.send_response(200)
            body = data[start:]
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            drop = fault == "drop-always" or (fault == "drop-once" and name not in state.dropped)
            if drop:
                state.dropped.add(name)
                self.wfile.write(body[: len(body) // 3])
                self.wfile.flush()
                self.close_connection = True
                return  # the connection closes with the body cut short
            self.wfile.write(body)

    return Handler


@contextmanager
def serve_release(root: Path) -> Iterator[tuple[str, ServerState]]:
    """Serve ``root`` at ``http://127.0.0.1:PORT/release``; yields (base URL, state)."""
    state = ServerState(root)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/release", state
    finally:
        server.shutdown()
        server.server_close()
