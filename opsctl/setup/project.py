"""``opsctl init``'s core: discover each target, render opsctl.yaml, check it as ``config check`` would, write it.

The file is checked with :func:`opsctl.config.load_config` before it takes its
place, so what ``init`` writes always loads. An existing file is never
replaced without ``force`` (and then it is kept as ``<name>.bak``); without
force the new file is linked into place, which fails if one appeared meanwhile.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opsctl.errors import BadInput
from opsctl.files.paths import display_path
from opsctl.setup.model import Discovered
from opsctl.setup.render import Planned, render
from opsctl.setup.targets import Target, env_names, parse_targets

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class InitRequest:
    """What to look at and how to reach it (the command line's options, typed)."""

    ecs: list[str] = field(default_factory=list)
    fly: list[str] = field(default_factory=list)
    kubernetes: list[str] = field(default_factory=list)
    envs: list[str] = field(default_factory=list)
    health_urls: list[str] = field(default_factory=list)
    service: str | None = None
    region: str | None = None
    profile: str | None = None
    fly_api_url: str = "https://api.machines.dev"
    fly_token_env: str = "FLY_API_TOKEN"  # noqa: S105 - the name of an env var
    kubeconfig: str | None = None


@dataclass(frozen=True)
class InitResult:
    """The file (``text``), where it went (``written`` False: only printed) and what it holds."""

    path: Path
    text: str
    service: str
    environments: tuple[Planned, ...]
    written: bool
    backup: Path | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "written": self.written,
            "backup": str(self.backup) if self.backup else None,
            "service": self.service,
            "environments": {p.name: {**p.found.as_dict(), "protected": p.protected} for p in self.environments},
        }


def init_project(path: Path, request: InitRequest, *, force: bool, write: bool, today: str) -> InitResult:
    """Discover, render, check and (``write``) write ``path``; BadInput before any discovery when it exists."""
    if write and not force and os.path.lexists(path):
        raise BadInput(
            f"{display_path(path)} already exists: pass --force to replace it (or --print to see the new one)"
        )
    targets = parse_targets(request.ecs, request.fly, request.kubernetes)
    urls = _health_urls(request.health_urls, len(targets))
    if request.service is not None and not _NAME.fullmatch(request.service):
        raise BadInput(
            f"--service {request.service}: letters, digits, '_', '.' and '-', starting with a letter or digit"
        )
    found = [_discover(target, request) for target in targets]
    names = env_names(request.envs, [f.name_hint for f in found])
    if urls:
        found = [_with_url(f, url) for f, url in zip(found, urls, strict=True)]
    planned = tuple(Planned(name, f) for name, f in zip(names, found, strict=True))
    service = request.service or _service_name(found[0].service)
    text = render(service, planned, today=today)
    _check(path, text)
    if not write:
        return InitResult(path, text, service, planned, written=False)
    backup = _write(path, text, force=force)
    return InitResult(path, text, service, planned, written=True, backup=backup)


def _discover(target: Target, request: InitRequest) -> Discovered:
    if target.kind == "ecs":
        from opsctl.setup.ecs import discover_ecs

        return discover_ecs(target, region=request.region, profile=request.profile)
    if target.kind == "fly":
        from opsctl.setup.fly import discover_fly

        return discover_fly(target, api_url=request.fly_api_url, token_env=request.fly_token_env)
    from opsctl.setup.kube import discover_kube

    return discover_kube(target, kubeconfig=request.kubeconfig)


def _health_urls(urls: list[str], targets: int) -> list[str]:
    for url in urls:
        if not re.fullmatch(r"https?://[^\s/@]+(/\S*)?", url):
            raise BadInput(f"--health-url {url}: give an http:// or https:// URL, e.g. https://staging.example.com")
    if urls and len(urls) != targets:
        raise BadInput(f"{len(urls)} --health-url(s) for {targets} target(s): give one per target, in the same order")
    return urls


def _with_url(found: Discovered, url: str) -> Discovered:
    from dataclasses import replace

    health = {**(found.health or {}), "base_url": url.rstrip("/")}
    return replace(found, health=health, notes=(*found.notes, f"health.base_url from --health-url: {url}"))


def _service_name(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-_.")[:64]
    return cleaned or "service"


def _check(path: Path, text: str) -> None:
    """Load ``text`` as ``config check`` would, from a file beside ``path`` (relative paths resolve the same)."""
    from opsctl.config import load_config

    folder = path.parent
    if not folder.is_dir():
        raise BadInput(f"{display_path(folder)} is not a folder: opsctl.yaml cannot be written there")
    probe = folder / f".{path.name}.init-{os.getpid()}.tmp"
    try:
        probe.write_text(text, encoding="utf-8")
        load_config(probe)
    except OSError as exc:
        raise BadInput(f"cannot write in {display_path(folder)}: {exc.strerror or exc}") from None
    finally:
        with contextlib.suppress(OSError):
            probe.unlink()


def _write(path: Path, text: str, *, force: bool) -> Path | None:
    temp = path.with_name(f".{path.name}.init-{os.getpid()}.new")
    backup: Path | None = None
    try:
        temp.write_text(text, encoding="utf-8")
        os.chmod(temp, 0o644)
        if force and os.path.lexists(path):
            backup = path.with_name(path.name + ".bak")
            shutil.copy2(path, backup)
            os.replace(temp, path)  # atomic: readers see the old file or the new one, never neither
        else:
            os.link(temp, path)  # fails when a file appeared since the check: never clobbered without --force
    except FileExistsError:
        raise BadInput(f"{display_path(path)} already exists: pass --force to replace it") from None
    except OSError as exc:
        raise BadInput(f"cannot write {display_path(path)}: {exc.strerror or exc}") from None
    finally:
        with contextlib.suppress(OSError):
            temp.unlink()
    return backup
