"""``opsctl init --ecs`` end to end: discover a service behind an ALB on moto, check the file, deploy with it."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.e2e.harness import Project, TagBot, subprocess_env
from tests.setup.support import create_balanced_service
from tests.support import moto_server as aws_support
from tests.support.moto_server import MotoServer

moto_server = aws_support.moto_server
aws = aws_support.aws


def test_init_writes_a_config_that_config_check_accepts_and_that_deploys(tmp_path: Path, aws: MotoServer) -> None:
    balanced = create_balanced_service(aws)
    with TagBot(balanced.service) as bot:
        project = Project(tmp_path, subprocess_env(aws), balanced.service, bot)
        # The load balancer's DNS name cannot resolve here: the bot stands behind it on 127.0.0.1.
        done = project.run("init", "--ecs", "hvb-staging/hotel-voice-bot", "--health-url", bot.url)
        assert (done.returncode, done.stderr) == (0, "")
        assert done.stdout.splitlines()[1] == f"  staging: ecs hvb-staging/hotel-voice-bot · {bot.url}"

        check = project.json("config", "check")
        assert check["environments"] == [
            {
                "environment": "staging",
                "platform": "ecs hvb-staging/hotel-voice-bot (eu-west-1)",
                "protected": False,
                "health": bot.url,
                "requires": {},
                "freeze_windows": 0,
            }
        ]
        # Only the poll interval is made faster for the test; everything else is as init wrote it.
        config = yaml.safe_load((tmp_path / "opsctl.yaml").read_text())
        config["environments"]["staging"]["platform"]["poll_interval"] = "0.2s"
        (tmp_path / "opsctl.yaml").write_text(yaml.safe_dump(config))

        deployed = project.deploy("hvb:1.8.0")
        assert deployed.returncode == 0, deployed.stdout + deployed.stderr
        assert project.image() == "hvb:1.8.0"
        runs = project.runs()
        assert [(r["runbook"], r["status"], r["image"]) for r in runs][:1] == [("deploy", "succeeded", "hvb:1.8.0")]

        again = project.run("--json", "init", "--ecs", "hvb-staging/hotel-voice-bot")
        assert again.returncode == 2
        assert json.loads(again.stderr) == {
            "error": "opsctl.yaml already exists: pass --force to replace it (or --print to see the new one)",
            "exit_code": 2,
        }
