"""The demo sandbox's project folder: its opsctl.yaml and quick copies of the verification checklists."""

from __future__ import annotations

from pathlib import Path

from opsctl.sandbox.aws import EcsService

ENV = "staging"
FAST_RETRY = "0.2s"  # the built-in checklists wait 5 s between retries; the sandbox answers at once
SYNTHETIC = {"path": "/api/messages", "json": {"text": "Do you have a room for tonight?"}, "status": 200}


def write_project(root: Path, service: EcsService, bot_url: str) -> Path:
    """opsctl.yaml for the sandbox, plus quick copies of the verification checklists.

    No ``registries:`` entry is needed: ECR images are read through boto3 with
    the environment's AWS endpoint (moto), as verify does for a real account.
    """
    import yaml

    config = {
        "service": "hotel-voice-bot",
        "state_dir": ".opsctl",
        "environments": {
            ENV: {
                "platform": service.platform_config(poll_interval="0.2s"),
                "health": {"base_url": bot_url, "timeout": "2s", "synthetic": SYNTHETIC},
            }
        },
    }
    path = root / "opsctl.yaml"
    header = "# The opsctl demo sandbox: ECS on moto and the demo bot, both on 127.0.0.1.\n"
    path.write_text(header + yaml.safe_dump(config, sort_keys=False))
    for name in ("post-deploy", "rollback-verify"):
        _quick_copy(name, root / "checklists")
    return path


def _quick_copy(name: str, folder: Path) -> None:
    """The built-in checklist ``name`` with quick retries (a project file replaces the built-in).

    The sandbox answers at once, so the checklist's own retries (every
    FAST_RETRY) replace the probes' re-sends with back-off.
    """
    import yaml

    from opsctl.engine.loader import find

    data = yaml.safe_load(find("checklists", name, None).path.read_text(encoding="utf-8"))
    for item in data["items"]:
        retry = item.get("retry")
        if retry is not None:
            item["retry"] = {**(retry if isinstance(retry, dict) else {"count": retry}), "interval": FAST_RETRY}
            if str(item.get("uses", "")).startswith("health."):
                item["with"] = {**(item.get("with") or {}), "retries": 0}
    folder.mkdir(exist_ok=True)
    header = f"# The built-in {name} checklist with quick retries ({FAST_RETRY}), for the demo sandbox.\n"
    (folder / f"{name}.yaml").write_text(header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def manual_confirms(project_dir: Path, checklist: str = "pre-deploy") -> tuple[str, ...]:
    """``--confirm ID`` for every manual item of ``checklist``: the demo has no person to ask."""
    from opsctl.engine.loader import load_checklist

    ids = [item.id for item in load_checklist(checklist, project_dir).model.items if item.uses == "manual"]
    return tuple(arg for item_id in ids for arg in ("--confirm", item_id))
