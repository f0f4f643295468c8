"""`opsctl slo` and the error budget policy, end to end: moto ECS, the sandbox bots, a loopback Prometheus.

Production's Prometheus is a loopback server answering the HTTP API's JSON
from a table of counts (tests/slo/fakeprom.py), so every figure below is
worked out by hand. The project's own post-deploy and rollback checklists
probe liveness and the served version only: the runs here are about the
budget gate, not about what the stand-in says to the verification queries.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.e2e.policy import conftest as policy
from tests.e2e.policy.support import OUTSIDE_FREEZE, Project, error_line, output, step_events
from tests.slo.fakeprom import DAY, FakePrometheus
from tests.support.incidents import record_open_incident

moto_server = policy.moto_server
aws = policy.aws
project = policy.project
_isolated = policy._isolated

PERIOD = 30 * DAY
LIGHT_CHECKS = """\
title: {title}
items:
  - id: live
    title: Liveness
    uses: health.live
  - id: version
    title: Served version
    uses: health.version
"""
EXHAUSTED = (
    "error: production: the error budget policy stops normal changes: budget exhausted: error budget 150.0% spent "
    "(64.8 of 43.2 min at 99.9% over 30d), availability 99.8500%; only emergency changes "
    "(opsctl hotpatch --incident ID) and rollbacks may go in"
)


@pytest.fixture
def prom() -> Iterator[FakePrometheus]:
    with FakePrometheus() as server:
        yield server


@pytest.fixture
def budgeted(project: Project, prom: FakePrometheus) -> Project:
    """Production counts its requests in ``prom``; slo.policy: enforce."""
    project.write("checklists/post-deploy.yaml", LIGHT_CHECKS.format(title="Post-deployment verification"))
    project.write("checklists/rollback-verify.yaml", LIGHT_CHECKS.format(title="Rollback verification"))
    configure(project, prom, "enforce")
    return project


def configure(project: Project, prom: FakePrometheus, policy_name: str) -> None:
    project.configure(production={"health": {"prometheus_url": prom.url}}, slo={"policy": policy_name})


def test_slo_json_figures_match_a_hand_computation(budgeted: Project, prom: FakePrometheus) -> None:
    prom.counts = {
        PERIOD: (2_000_000.0, 1_200.0),  # 99.94 % available: 1,200 of 2,000 allowed failures, 60 % spent
        300: (1_000.0, 2.0),  # 0.2 % errors = 2x
        1800: (6_000.0, 6.0),  # 0.1 % = 1x
        3600: (12_000.0, 6.0),  # 0.05 % = 0.5x
        6 * 3600: (72_000.0, 36.0),  # 0.5x
        3 * 86400: (500_000.0, 300.0),  # 0.06 % = 0.6x
    }
    prom.bad_steps = [40.0] * 30

    result = budgeted.invoke("slo", "production", "--json")

    assert result.exit_code == 0, output(result)
    data = json.loads(result.stdout)
    assert data["availability"] == pytest.approx(0.9994)
    assert data["budget_remaining"] == pytest.approx(0.4)
    assert data["burn_rates"] == pytest.approx({"5m": 2.0, "30m": 1.0, "1h": 0.5, "6h": 0.5, "3d": 0.6})
    assert data["budget"]["total_minutes"] == pytest.approx(43.2)
    assert data["budget"]["spent_minutes"] == pytest.approx(25.92)
    assert data["budget"]["remaining_minutes"] == pytest.approx(17.28)
    assert (data["objective"], data["period"], data["policy"], data["source"]) == (
        0.999,
        "30d",
        "enforce",
        "prometheus",
    )
    assert (data["exhausted"], data["fast_burn"]) == (False, False)
    assert [a["rule"] for a in data["alerts"]] == ["14.4x over 1h and 5m", "6x over 6h and 30m", "1x over 3d and 6h"]
    assert [round(a["budget_consumed_at_threshold"], 4) for a in data["alerts"]] == [0.02, 0.05, 0.1]
    assert len(data["budget_over_time"]) == 30
    assert data["budget_over_time"][-1]["remaining"] == pytest.approx(0.4)


def test_slo_table_shows_the_budget_the_burn_rates_and_a_chart(budgeted: Project, prom: FakePrometheus) -> None:
    prom.counts = {PERIOD: (2_000_000.0, 1_200.0), 300: (1_000.0, 2.0), 3600: (12_000.0, 6.0)}
    prom.bad_steps = [40.0] * 30

    result = budgeted.invoke("slo", "production")

    assert result.exit_code == 0, output(result)
    out = result.stdout
    lines = [" ".join(line.split()) for line in out.splitlines()]
    assert lines[0].startswith("error budget of production: 99.9% over 30d (policy enforce; Prometheus http://")
    assert lines[1:6] == [
        "requests 2,000,000 1,200 failed",
        "availability 99.9400%",
        "budget total 43.2 min 100.0%",
        "spent 25.9 min 60.0%",
        "remaining 17.3 min 40.0%",
    ]
    assert "burn rates: 5m 2.00x  30m -  1h 0.50x  6h -  3d -" in out
    assert "ok page: burn 0.5x over 1h and 2.0x over 5m (page above 14.4x)" in out
    assert "budget left over the period:" in out
    assert "100% │" in out
    assert "  0% │" in out


def test_with_the_budget_exhausted_a_normal_deploy_is_refused_before_any_change(
    budgeted: Project, prom: FakePrometheus
) -> None:
    prom.counts = {PERIOD: (1_000_000.0, 1_500.0)}

    result = budgeted.deploy("production", "hvb:1.8.0", clock=OUTSIDE_FREEZE)

    assert result.exit_code == 1, output(result)
    assert error_line(result) == EXHAUSTED
    assert budgeted.image("production") == "hvb:1.7.0"
    run = budgeted.last_run()
    events = budgeted.events(run)
    assert step_events(events, "deploy") == []
    assert step_events(events, "pre-deploy") == []  # refused before the gates, like a freeze
    end = budgeted.run_end(run)
    assert (end["status"], end["summary"]) == ("error", EXHAUSTED.removeprefix("error: "))

    # The same refusal in a dry run: it reports what the real run would meet.
    dry = budgeted.deploy("production", "hvb:1.8.0", "--dry-run", clock=OUTSIDE_FREEZE)
    assert dry.exit_code == 1, output(dry)
    assert error_line(dry) == EXHAUSTED

    # `opsctl slo` says so too, with exit 1 for scripts.
    assert budgeted.invoke("slo", "production").exit_code == 1


def test_with_the_budget_exhausted_hotpatch_and_rollback_still_run_and_are_recorded(
    budgeted: Project, prom: FakePrometheus
) -> None:
    prom.counts = {PERIOD: (1_000_000.0, 1_500.0)}
    record_open_incident(budgeted.config_path, "INC-42", env="production")
    figures = "budget exhausted: error budget 150.0% spent (64.8 of 43.2 min at 99.9% over 30d), availability 99.8500%"

    patched = budgeted.hotpatch("production", "hvb:1.8.1", "--incident", "INC-42", clock=OUTSIDE_FREEZE)

    assert patched.exit_code == 0, output(patched)
    assert budgeted.image("production") == "hvb:1.8.1"
    assert f"error budget of production: {figures}; allowed as an emergency change for INC-42" in patched.stdout
    (warned,) = step_events(budgeted.events(budgeted.last_run()), "policy.budget")
    assert (warned["status"], warned["summary"]) == ("warned", f"{figures}; allowed as an emergency change for INC-42")
    assert warned["budget"]["budget_remaining"] == pytest.approx(-0.5)
    assert (warned["change_type"], warned["incident"]) == ("emergency", "INC-42")

    back = budgeted.invoke("rollback", "production", "--to", "hvb:1.7.0", "--yes", "--timeout", "20s")

    assert back.exit_code == 0, output(back)
    assert budgeted.image("production") == "hvb:1.7.0"
    (recorded,) = step_events(budgeted.events(budgeted.last_run()), "policy.budget")
    assert (recorded["status"], recorded["summary"]) == (
        "warned",
        f"{figures}; allowed as a standard change (a rollback restores service)",
    )


def test_a_fast_burn_refuses_a_normal_change_with_budget_left(budgeted: Project, prom: FakePrometheus) -> None:
    # 2 % errors over the last hour and the last 5 minutes: 20x, above the 14.4x page threshold.
    prom.counts = {PERIOD: (1_000_000.0, 300.0), 3600: (10_000.0, 200.0), 300: (1_000.0, 20.0)}

    result = budgeted.deploy("production", "hvb:1.8.0", clock=OUTSIDE_FREEZE)

    assert result.exit_code == 1, output(result)
    assert error_line(result) == (
        "error: production: the error budget policy stops normal changes: fast burn: burn 20.0x over 1h and "
        "20.0x over 5m (page above 14.4x); only emergency changes (opsctl hotpatch --incident ID) and rollbacks "
        "may go in"
    )
    assert budgeted.image("production") == "hvb:1.7.0"


def test_with_budget_left_a_normal_deploy_passes_and_records_the_figures(
    budgeted: Project, prom: FakePrometheus
) -> None:
    prom.counts = {PERIOD: (2_000_000.0, 1_200.0), 300: (1_000.0, 2.0)}

    result = budgeted.deploy("production", "hvb:1.8.0", clock=OUTSIDE_FREEZE)

    assert result.exit_code == 0, output(result)
    assert budgeted.image("production") == "hvb:1.8.0"
    (passed,) = step_events(budgeted.events(budgeted.last_run()), "policy.budget")
    assert passed["status"] == "passed"
    assert passed["summary"] == (
        "error budget 60.0% spent (25.9 of 43.2 min at 99.9% over 30d), availability 99.9400%; "
        "burn rates 5m 2.0x, 30m -, 1h -, 6h -, 3d -"
    )


def test_under_warn_an_exhausted_budget_is_said_and_the_change_goes_in(budgeted: Project, prom: FakePrometheus) -> None:
    configure(budgeted, prom, "warn")
    prom.counts = {PERIOD: (1_000_000.0, 1_500.0)}

    result = budgeted.deploy("production", "hvb:1.8.0", clock=OUTSIDE_FREEZE)

    assert result.exit_code == 0, output(result)
    assert budgeted.image("production") == "hvb:1.8.0"
    assert "error budget of production: budget exhausted: " in result.stdout
    (warned,) = step_events(budgeted.events(budgeted.last_run()), "policy.budget")
    assert warned["status"] == "warned"
    assert warned["summary"].endswith("; slo.policy is warn: going ahead")


def test_an_unreadable_budget_stops_an_enforced_change_with_exit_5(budgeted: Project, prom: FakePrometheus) -> None:
    prom.error = (503, {"status": "error", "errorType": "unavailable", "error": "TSDB not ready"})

    result = budgeted.deploy("production", "hvb:1.8.0", clock=OUTSIDE_FREEZE)

    assert result.exit_code == 5, output(result)
    assert error_line(result) == (
        "error: the error budget of production cannot be read, so a normal change may not go in: "
        f"Prometheus at {prom.url} could not answer: TSDB not ready"
    )
    assert budgeted.image("production") == "hvb:1.7.0"

    slo = budgeted.invoke("slo", "production")
    assert slo.exit_code == 5, output(slo)
    assert error_line(slo) == f"error: Prometheus at {prom.url} could not answer: TSDB not ready"


def test_enforce_without_a_source_is_bad_input(project: Project) -> None:
    project.configure(slo={"policy": "enforce"})

    result = project.deploy("production", "hvb:1.8.0", clock=OUTSIDE_FREEZE)

    assert result.exit_code == 2, output(result)
    assert error_line(result) == (
        "error: slo.policy is enforce, but production has no source of request counts for the error budget: set "
        "environments.production.health.prometheus_url or health.cloudwatch in opsctl.yaml"
    )


def test_slo_of_an_environment_without_a_source_is_one_line_exit_2(project: Project) -> None:
    result = project.invoke("slo", "staging")

    assert result.exit_code == 2, output(result)
    assert error_line(result) == (
        "error: staging has no source of request counts for the error budget: set "
        "environments.staging.health.prometheus_url or health.cloudwatch in opsctl.yaml"
    )


@pytest.mark.parametrize(
    ("slo", "problem"),
    [
        ({"availability": 1.5}, "slo -> availability: input should be less than 1"),
        ({"period": "30 days"}, "slo -> period: must be a duration like 30s or 5m"),
        ({"period": "30m"}, "slo -> period: must be at least 1h"),
        ({"policy": "block"}, "slo -> policy: expected 'enforce', 'warn' or 'off'"),
    ],
    ids=["availability", "period-text", "period-short", "policy"],
)
def test_a_bad_slo_block_is_a_config_error(project: Project, slo: dict[str, object], problem: str) -> None:
    project.configure(slo=slo)

    result = project.invoke("slo", "production")

    assert result.exit_code == 2, output(result)
    line = error_line(result)
    assert line.startswith("error: opsctl.yaml:"), line
    assert line.endswith(problem), line


def test_report_shows_budget_spent_per_period_next_to_the_change_failure_rate(
    budgeted: Project, prom: FakePrometheus
) -> None:
    prom.counts = {PERIOD: (2_000_000.0, 1_200.0)}

    table = budgeted.invoke("report", "--since", "60d")
    data = json.loads(budgeted.invoke("--json", "report", "--since", "60d").stdout)

    assert table.exit_code == 0, output(table)
    header = next(line for line in table.stdout.splitlines() if "MTTR" in line and "┃" in line)
    assert [c.strip() for c in header.split("┃")[1:-1]] == [
        "env", "deploys", "per day", "success", "CFR", "budget", "MTTR", "MTBF", "open"
    ]  # fmt: skip
    rows = {
        line.split("│")[1].strip(): [c.strip() for c in line.split("│")[2:-1]]
        for line in table.stdout.splitlines()
        if line.startswith("│") and line.split("│")[1].strip() in ("staging", "production")
    }
    assert rows["production"][4] == "60.0%"
    assert rows["staging"][4] == "-"
    assert "error budget spent per 30d period, production: to " in table.stdout
    periods = data["error_budget"]["production"]
    assert len(periods) == 2  # 60 days: two 30-day periods, newest first
    assert periods[0]["budget_spent"] == pytest.approx(0.6)
    assert list(data["error_budget"]) == ["production"]
