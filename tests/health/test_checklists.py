"""The actions inside checklists: the built-in post-deploy checklist against the bot, and `with:` contracts."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from opsctl.engine.actions import all_actions, get_action
from opsctl.engine.checklist import run_checklist
from opsctl.engine.loader import load_checklist
from opsctl.engine.models import Retry
from opsctl.engine.outcome import Status
from opsctl.sandbox.bot import BotServer
from tests.health import helpers
from tests.health.helpers import ctx_for

bot = helpers.bot

SYNTHETIC = {"path": "/api/messages", "json": {"text": "Can I book a room?"}, "expect": {"intent": "booking"}}
ACTIONS = [
    "health.live",
    "health.version",
    "health.dependencies",
    "health.synthetic",
    "metrics.latency",
    "metrics.error_rate",
    "metrics.baseline",
    "metrics.db_pool",
    "metrics.fresh",
]


def test_every_action_runs_without_with_keys() -> None:
    registered = all_actions()
    for name in ACTIONS:
        spec = registered[name]
        assert spec.required_keys() == [], name
        assert spec.mutating is False, name
        assert spec.doc, name
        spec.params.model_validate({})


def test_unknown_with_key_is_rejected() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        get_action("health.live").params.model_validate({"url": "http://x"})


def test_builtin_post_deploy_checklist_passes_against_a_healthy_bot(tmp_path: Path, bot: BotServer) -> None:
    ctx = ctx_for(tmp_path, bot.url, synthetic=SYNTHETIC)
    ctx.state.release = {"id": "hvb-staging:9", "image": "hvb:1.8.0"}
    result = run_checklist(ctx, load_checklist("post-deploy", ctx.project_dir))
    assert {i.id: i.status for i in result.items if i.status is not Status.PASSED} == {}, [
        (i.id, i.summary) for i in result.items
    ]
    assert result.status is Status.PASSED


def test_builtin_post_deploy_checklist_names_what_broke(tmp_path: Path, bot: BotServer) -> None:
    bot.configure(dependencies={"openai": "down"}, version="1.7.0")
    ctx = ctx_for(tmp_path, bot.url, synthetic=SYNTHETIC)
    ctx.state.release = {"id": "hvb-staging:9", "image": "hvb:1.8.0"}
    checklist = load_checklist("post-deploy", ctx.project_dir)
    # Without the checklist's own retries (5 x 5 s) to keep the test fast.
    items = [item.model_copy(update={"retry": Retry()}) for item in checklist.model.items]
    result = run_checklist(ctx, replace(checklist, model=checklist.model.model_copy(update={"items": items})))
    failed = {i.id: i.summary for i in result.items if i.status is Status.FAILED}
    assert failed["version"] == "3 of 3 probes served 1.7.0, expected 1.8.0"
    assert failed["integrations"] == "dependency openai is down"
    assert failed["core"] == f"POST {bot.url}/api/messages answered HTTP 503, expected 200"
    assert result.status is Status.FAILED


def test_baseline_then_error_rate_in_one_project_checklist(tmp_path: Path, bot: BotServer) -> None:
    ctx = ctx_for(tmp_path, bot.url)
    (tmp_path / "checklists").mkdir()
    (tmp_path / "checklists" / "canary.yaml").write_text(
        "title: Canary analysis\n"
        "items:\n"
        "  - {id: baseline, title: Baseline, uses: metrics.baseline, with: {samples: 20, latency_samples: 0}}\n"
        "  - id: errors\n"
        "    title: No increase in error rates\n"
        "    uses: metrics.error_rate\n"
        "    needs: [baseline]\n"
        "    with: {samples: 20, count: 2, interval: 50ms, failure_limit: 0}\n"
    )
    result = run_checklist(ctx, load_checklist("canary", ctx.project_dir))
    assert [(i.id, i.status) for i in result.items] == [("baseline", Status.PASSED), ("errors", Status.PASSED)]
    assert result.items[1].summary == (
        "error rate 0.00% <= 1.00%, 0.00% before the deploy (synthetic: 20 requests to /health) "
        "[2 of 2 measurements passed]"
    )
