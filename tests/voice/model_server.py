"""A local stand-in for alphacephei.com: a real HTTP server on 127.0.0.1 serving a model list
and model zips, recording every request. Shared by the model download and CLI tests."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import threading
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

LIST_PATH = "/vosk/models/model-list.json"


class ModelServer:
    """Serves ``files`` (URL path → bytes or a file) and a model list built by :meth:`publish`."""

    def __init__(self) -> None:
        self.files: dict[str, bytes | Path] = {}
        self.entries: list[dict[str, Any]] = []
        self.requests: list[str] = []
        self.chunk_delay = 0.0  # seconds between 64 KiB chunks, to keep a download in flight
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def list_url(self) -> str:
        return self.base + LIST_PATH

    def publish(
        self,
        name: str,
        lang: str,
        archive: bytes | Path,
        *,
        kind: str = "small",
        version: str = "0.1",
        obsolete: bool = False,
        md5: str | None = None,
        lang_text: str = "",
    ) -> dict[str, Any]:
        """Serve ``archive`` as ``/vosk/models/<name>.zip`` and list it (md5 of it by default)."""
        path = f"/vosk/models/{name}.zip"
        self.files[path] = archive
        data = archive.read_bytes() if isinstance(archive, Path) else archive
        entry = {
            "lang": lang,
            "lang_text": lang_text or lang.upper(),
            "md5": md5 or hashlib.md5(data).hexdigest(),
            "name": name,
            "obsolete": "true" if obsolete else "false",
            "size": len(data),
            "size_text": f"{len(data) / 2**20:.1f}MiB",
            "type": kind,
            "url": self.base + path,
            "version": version,
        }
        self.entries.append(entry)
        self.files[LIST_PATH] = json.dumps(self.entries).encode()
        return entry

    def requested(self, path_end: str) -> int:
        """How many GET requests asked for a path ending in ``path_end``."""
        with self._lock:
            return sum(1 for p in self.requests if p.endswith(path_end))

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with server._lock:
                    server.requests.append(self.path)
                body = server.files.get(self.path)
                if body is None:
                    self.send_error(404, "Not Found")
                    return
                self.send_response(200)
                size = body.stat().st_size if isinstance(body, Path) else len(body)
                self.send_header("Content-Length", str(size))
                self.end_headers()
                with body.open("rb") if isinstance(body, Path) else io.BytesIO(body) as source:
                    while chunk := source.read(1 << 16):
                        self.wfile.write(chunk)
                        if server.chunk_delay:
                            time.sleep(server.chunk_delay)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output clean; requests are recorded instead

        return Handler

    @contextmanager
    def running(self) -> Iterator[ModelServer]:
        self._thread.start()
        try:
            yield self
        finally:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join()


def model_zip(
    top: str = "vosk-model-small-xx-0.1", payload: int = 0, extra: dict[str, bytes] | None = None
) -> bytes:
    """A zip shaped like an official model: ``top/`` with ``am/``, ``conf/``, ``graph/``.

    ``payload`` random-looking bytes in ``am/final.mdl`` make it span several chunks; ``extra``
    adds entries by their exact name (for unsafe-name tests).
    """
    entries: dict[str, str | bytes] = {
        f"{top}/am/final.mdl": _noise(payload) or b"am",
        f"{top}/conf/mfcc.conf": "--sample-frequency=16000\n",
        f"{top}/graph/phones.txt": "<eps> 0\n",
        **(extra or {}),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as zipped:
        for name, data in entries.items():
            # A fixed time: the same arguments give the same bytes (and md5), whenever built.
            entry = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            entry.external_attr = 0o600 << 16  # as writestr gives a named entry
            zipped.writestr(entry, data)
    return buffer.getvalue()


def _noise(size: int) -> bytes:
    blocks = (hashlib.sha256(i.to_bytes(8, "big")).digest() for i in range(size // 32 + 1))
    return b"".join(blocks)[:size]


def zip_directory(source: Path, top: str, out: Path) -> Path:
    """Zip ``source`` under the top-level folder ``top`` (stored: the model files are packed)."""
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zipped:
        for path in sorted(source.rglob("*")):
            arcname = f"{top}/{path.relative_to(source).as_posix()}"
            if path.is_file():
                with path.open("rb") as src, zipped.open(arcname, "w", force_zip64=True) as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
    return out
