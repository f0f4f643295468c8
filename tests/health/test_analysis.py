"""run_analysis: count, interval, failure_limit, initial_delay, cancel; no data is never a pass."""

from __future__ import annotations

import threading
from collections.abc import Callable

from opsctl.engine.outcome import Status
from opsctl.health.analysis import AnalysisParams, Measurement, run_analysis
from tests.health.helpers import Timer

GOOD = Measurement(1.0, True, "good")
BAD = Measurement(9.0, False, "bad")
NONE = Measurement.no_data("the query returned no series")


def script(*measurements: Measurement) -> tuple[Callable[[], Measurement], list[int]]:
    calls: list[int] = []

    def measure() -> Measurement:
        calls.append(1)
        return measurements[len(calls) - 1]

    return measure, calls


def spec(**values: object) -> AnalysisParams:
    return AnalysisParams.model_validate({"interval": "1ms", **values})


def test_one_measurement_by_default() -> None:
    measure, calls = script(GOOD)
    outcome = run_analysis(measure, AnalysisParams(), threading.Event())
    assert (outcome.status, outcome.summary, len(calls)) == (Status.PASSED, "good", 1)


def test_all_measurements_pass() -> None:
    measure, _ = script(GOOD, GOOD, GOOD)
    outcome = run_analysis(measure, spec(count=3), threading.Event())
    assert outcome.summary == "good [3 of 3 measurements passed]"


def test_fails_fast_once_the_limit_is_exceeded() -> None:
    measure, calls = script(GOOD, BAD, GOOD, GOOD)
    outcome = run_analysis(measure, spec(count=4), threading.Event())
    assert (outcome.status, outcome.summary) == (Status.FAILED, "bad [1 of 2 measurements failed, limit 0]")
    assert len(calls) == 2


def test_failures_within_the_limit_pass_with_the_newest_good_measurement() -> None:
    measure, _ = script(GOOD, BAD, GOOD, BAD)
    outcome = run_analysis(measure, spec(count=4, failure_limit=2), threading.Event())
    assert (outcome.status, outcome.summary) == (Status.PASSED, "good [2 of 4 measurements passed]")


def test_no_data_is_a_failure() -> None:
    measure, _ = script(NONE)
    outcome = run_analysis(measure, AnalysisParams(), threading.Event())
    assert (outcome.status, outcome.summary) == (Status.FAILED, "no data: the query returned no series")


def test_no_data_everywhere_never_passes_even_within_the_limit() -> None:
    measure, _ = script(NONE, NONE)
    outcome = run_analysis(measure, spec(count=2, failure_limit=5), threading.Event())
    assert outcome.status is Status.FAILED
    assert outcome.summary == "no data: the query returned no series [2 of 2 measurements failed, limit 5]"


def test_interval_and_initial_delay_are_waited() -> None:
    measure, _ = script(GOOD, GOOD)
    with Timer() as t:
        run_analysis(measure, spec(count=2, interval="200ms", initial_delay="100ms"), threading.Event())
    assert 0.3 <= t.elapsed < 2.0


def test_cancel_ends_the_wait_between_measurements() -> None:
    measure, calls = script(GOOD, GOOD, GOOD)
    cancel = threading.Event()
    threading.Timer(0.1, cancel.set).start()
    with Timer() as t:
        outcome = run_analysis(measure, spec(count=3, interval="30s"), cancel)
    assert (outcome.status, outcome.summary) == (Status.FAILED, "interrupted after 1 of 3 measurements")
    assert len(calls) == 1
    assert t.elapsed < 2.0


def test_cancel_during_the_initial_delay() -> None:
    measure, calls = script(GOOD)
    cancel = threading.Event()
    cancel.set()
    outcome = run_analysis(measure, spec(initial_delay="1m"), cancel)
    assert outcome.summary == "interrupted during the initial delay of 1m00s"
    assert not calls
