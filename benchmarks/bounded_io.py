"""Peak memory of health probes against an endless and a gzip-bomb endpoint, next to a normal one.

A local server on 127.0.0.1 serves three ``/health`` answers: a normal JSON
body (the baseline), an endless chunked body, and a gzip bomb (1 GiB of zeros,
about 1 MB on the wire). Each probe runs the real probe code
(:func:`opsctl.health.probes.check_live` through a ``HealthClient``) in a
fresh child process of this script, which reports its own peak RSS
(``resource.getrusage``), so one scenario's memory cannot hide another's.
Prints the figures; exits 1 when a probe does not fail as it should or any
peak is above 200 MB.

    /work/venv/bin/python benchmarks/bounded_io.py
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LIMIT_MB = 200.0
BOMB_BYTES = 1 << 30  # decoded size of the gzip bomb
CHUNK = 1 << 16


def gzip_bomb() -> bytes:
    """1 GiB of zeros as one gzip member, compressed piecewise (the parent never holds the 1 GiB)."""
    packer = zlib.compressobj(6, zlib.DEFLATED, zlib.MAX_WBITS | 16)  # 9 is no smaller on zeros
    zeros = bytes(1 << 20)
    parts = [packer.compress(zeros) for _ in range(BOMB_BYTES // len(zeros))]
    parts.append(packer.flush())
    return b"".join(parts)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    bomb = b""

    def do_GET(self) -> None:
        self.close_connection = True  # one probe per connection; a hung-up probe is not read again
        try:
            if self.path == "/normal/health":
                self._send(b'{"status": "ok", "version": "1.8.0"}', {})
            elif self.path == "/bomb/health":
                self._send(self.bomb, {"Content-Encoding": "gzip"})
            elif self.path == "/endless/health":
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                framed = f"{CHUNK:x}\r\n".encode() + b"x" * CHUNK + b"\r\n"
                while True:
                    self.wfile.write(framed)
            else:
                self.send_error(404)
        except OSError:
            return  # the probe hung up, as it should

    def _send(self, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: ARG002 - no request log
        return None


def probe(base_url: str) -> None:
    """Child process: one live probe; prints its outcome, time and this process's peak RSS as JSON."""
    from opsctl.health.client import HealthClient
    from opsctl.health.probes import check_live

    started = time.perf_counter()
    with HealthClient(base_url, timeout=10.0, retries=0) as client:
        outcome = check_live(client, "/health")
    elapsed = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(json.dumps({"status": outcome.status.value, "summary": outcome.summary, "s": elapsed, "kib": peak_kib}))


def main() -> int:
    Handler.bomb = gzip_bomb()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    expected = {"normal": "passed", "endless": "failed", "bomb": "failed"}
    ok = True
    rows = []
    try:
        for name, want in expected.items():
            done = subprocess.run(
                [sys.executable, __file__, "--probe", f"{base}/{name}"],
                capture_output=True,
                text=True,
                check=True,
                timeout=60,
            )
            result = json.loads(done.stdout)
            peak_mb = result["kib"] / 1024
            ok = ok and result["status"] == want and peak_mb <= LIMIT_MB
            rows.append((name, f"{peak_mb:.1f} MB", f"{result['s'] * 1000:.0f} ms", result["summary"]))
    finally:
        server.shutdown()
        server.server_close()
    print(f"gzip bomb: {BOMB_BYTES >> 20} MiB of zeros, {len(Handler.bomb) / 1e6:.2f} MB on the wire")
    print(f"{'endpoint':<10}{'peak RSS':>10}{'time':>10}  outcome")
    for name, peak, elapsed, summary in rows:
        print(f"{name:<10}{peak:>10}{elapsed:>10}  {summary}")
    print(f"limit: {LIMIT_MB:.0f} MB peak RSS per probe")
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--probe":
        probe(sys.argv[2])
        sys.exit(0)
    sys.exit(main())
