"""CloudWatch reads follow NextToken within a page budget: an endpoint that pages forever is an error, not a hang."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from opsctl.health.client import ProbeError
from opsctl.health.cloudwatch import MAX_PAGES, metric_data

T0 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
T1 = datetime(2026, 11, 30, 10, 1, tzinfo=UTC)


class Pages:
    """A GetMetricData stand-in: ``pages`` answers, each with a NextToken but the last (or never, when endless)."""

    def __init__(self, pages: int, *, endless: bool = False) -> None:
        self.pages, self.endless, self.calls = pages, endless, []

    def get_metric_data(self, **ask: Any) -> dict[str, Any]:
        self.calls.append(ask.get("NextToken"))
        n = len(self.calls)
        page: dict[str, Any] = {
            "MetricDataResults": [
                {"Id": "m1", "Timestamps": [T0], "Values": [float(n)]},
                {"Id": "m0", "Timestamps": [T1], "Values": [None]},
            ]
        }
        if self.endless or n < self.pages:
            page["NextToken"] = f"t{n}"
        return page


def test_pages_are_followed_and_each_query_gets_its_points() -> None:
    client = Pages(3)
    found = metric_data(client, [{"Id": "m0"}, {"Id": "m1"}], start=T0, end=T1)
    assert client.calls == [None, "t1", "t2"]
    assert found == [[], [(T0, 1.0), (T0, 2.0), (T0, 3.0)]]  # no-value points are dropped


def test_an_endpoint_that_never_stops_paging_fails_after_the_budget() -> None:
    client = Pages(0, endless=True)
    with pytest.raises(ProbeError, match=f"^CloudWatch GetMetricData was still paging after {MAX_PAGES} pages$"):
        metric_data(client, [{"Id": "m0"}, {"Id": "m1"}], start=T0, end=T1)
    assert len(client.calls) == MAX_PAGES


def test_results_for_ids_not_asked_for_are_ignored() -> None:
    found = metric_data(Pages(1), [{"Id": "m0"}], start=T0, end=T1)  # the stand-in also answers m1
    assert found == [[]]
