"""A real Prometheus (Debian ``prometheus``) on 127.0.0.1 scraping a test bot every second, and real traffic.

::

    with BotServer() as bot, PrometheusServer.start(tmp_path, targets=[bot.url]) as prom:
        with Traffic(bot.url):            # POST /api/messages from a few threads
            prom.wait_for_series("http_requests_total")
            ...

``rules`` (alerting rule groups as dicts) become a rule file evaluated every
second; ``alertmanager`` (a base URL) is where Prometheus sends alerts. Tests
call :func:`tests.support.binaries.require_binary` first (skip outside CI).
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.support.binaries import require_binary
from tests.support.servers import free_port, server_process, wait_until

SCRAPE = "1s"


def get_json(url: str, timeout: float = 2.0) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as answer:
        return json.loads(answer.read())


@dataclass
class PrometheusServer:
    """A Prometheus process; ``url`` is its HTTP API base."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path

    @classmethod
    @contextlib.contextmanager
    def start(
        cls,
        tmp_path: Path,
        *,
        targets: list[str],
        rules: list[dict[str, Any]] | None = None,
        alertmanager: str | None = None,
    ) -> Iterator[PrometheusServer]:
        binary = require_binary("prometheus")
        home = tmp_path / f"prometheus-{free_port()}"
        home.mkdir()
        config: dict[str, Any] = {
            "global": {"scrape_interval": SCRAPE, "evaluation_interval": SCRAPE},
            "scrape_configs": [
                {
                    "job_name": "hvb",
                    "scrape_interval": SCRAPE,
                    "scrape_timeout": SCRAPE,
                    "static_configs": [{"targets": [urllib.parse.urlsplit(t).netloc for t in targets]}],
                }
            ],
        }
        if rules is not None:
            (home / "rules.yml").write_text(yaml.safe_dump({"groups": rules}))
            config["rule_files"] = [str(home / "rules.yml")]
        if alertmanager is not None:
            where = urllib.parse.urlsplit(alertmanager).netloc
            config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [where]}]}]}
        (home / "prometheus.yml").write_text(yaml.safe_dump(config))
        port = free_port()
        url, log = f"http://127.0.0.1:{port}", home / "prometheus.log"
        argv = [
            binary,
            f"--config.file={home / 'prometheus.yml'}",
            f"--storage.tsdb.path={home / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--storage.tsdb.retention.time=1h",
        ]
        with server_process(argv, log, ready_url=f"{url}/-/ready", what="Prometheus") as process:
            yield cls(process, url, log)

    def query(self, promql: str) -> list[dict[str, Any]]:
        answer = get_json(f"{self.url}/api/v1/query?" + urllib.parse.urlencode({"query": promql}))
        return list(answer["data"]["result"])

    def wait_for_series(self, promql: str, timeout: float = 20.0) -> None:
        """Until ``promql`` returns a series (the bot was scraped with that traffic)."""
        wait_until(lambda: bool(self.query(promql)), f"Prometheus to have {promql}", timeout)

    def wait_for_rules(self, timeout: float = 20.0) -> None:
        """Until every alerting rule has been evaluated once (health no longer 'unknown')."""

        def evaluated() -> bool:
            groups = get_json(f"{self.url}/api/v1/rules")["data"]["groups"]
            rules = [r for g in groups for r in g["rules"]]
            return bool(rules) and all(r["health"] != "unknown" for r in rules)

        wait_until(evaluated, "Prometheus to evaluate its rules", timeout)


@dataclass
class Traffic:
    """Real users: ``threads`` loops posting guest messages to the bot until stopped."""

    base_url: str
    threads: int = 4
    path: str = "/api/messages"
    sent: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _workers: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __enter__(self) -> Traffic:
        for n in range(self.threads):
            worker = threading.Thread(target=self._loop, name=f"traffic-{n}", daemon=True)
            worker.start()
            self._workers.append(worker)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=5)

    def _loop(self) -> None:
        body = json.dumps({"text": "Can I book a room?"}).encode()
        while not self._stop.is_set():
            request = urllib.request.Request(
                self.base_url + self.path, data=body, headers={"Content-Type": "application/json"}, method="POST"
            )
            with contextlib.suppress(OSError), urllib.request.urlopen(request, timeout=5) as answer:
                answer.read()
            with self._lock:
                self.sent += 1
            self._stop.wait(0.02)
