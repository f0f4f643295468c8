"""A real Alertmanager (Debian ``prometheus-alertmanager``) on 127.0.0.1, clustering off.

::

    with AlertmanagerServer.start(tmp_path) as am:           # a webhook receiver on loopback
        am.url
    with AlertmanagerServer.start(tmp_path, deliver=False):  # only a receiver that sends nowhere
        ...
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.support.binaries import require_binary
from tests.support.servers import free_port, server_process


@dataclass
class AlertmanagerServer:
    process: subprocess.Popen[bytes]
    url: str

    @classmethod
    @contextlib.contextmanager
    def start(cls, tmp_path: Path, *, deliver: bool = True) -> Iterator[AlertmanagerServer]:
        binary = require_binary("prometheus-alertmanager")
        port = free_port()
        home = tmp_path / f"alertmanager-{port}"
        home.mkdir()
        receiver: dict[str, Any] = {"name": "oncall" if deliver else "blackhole"}
        if deliver:
            # Loopback only: nothing listens there, and no alert fires in these tests anyway.
            receiver["webhook_configs"] = [{"url": f"http://127.0.0.1:{free_port()}/alerts"}]
        config = {"route": {"receiver": receiver["name"]}, "receivers": [receiver]}
        (home / "alertmanager.yml").write_text(yaml.safe_dump(config))
        url = f"http://127.0.0.1:{port}"
        argv = [
            binary,
            f"--config.file={home / 'alertmanager.yml'}",
            f"--storage.path={home / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",  # no gossip: nothing but loopback
        ]
        log = home / "alertmanager.log"
        with server_process(argv, log, ready_url=f"{url}/-/ready", what="Alertmanager") as process:
            yield cls(process, url)
