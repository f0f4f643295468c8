"""Dotted field paths into parsed JSON: the reader http.get, the health probes and the synthetic request share."""

from __future__ import annotations

from typing import Any

import pytest

from opsctl.values.fieldpath import MISSING, compare_fields, field_at

BODY: dict[str, Any] = {
    "status": "ok",
    "version": "1.8.0",
    "cache": None,
    "dependencies": {"database": {"status": "ok", "pool_size": 20}},
    "regions": [{"name": "us"}, {"name": "eu"}],
}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("status", "ok"),
        ("dependencies.database.pool_size", 20),
        ("dependencies.database", {"status": "ok", "pool_size": 20}),
        ("regions.0.name", "us"),
        ("regions.-1.name", "eu"),
        ("cache", None),  # null is a value, not a missing field
    ],
)
def test_a_path_reaches_into_objects_and_lists(path: str, expected: Any) -> None:
    assert field_at(BODY, path) == expected


@pytest.mark.parametrize(
    "path",
    ["nope", "dependencies.cache.status", "regions.2.name", "regions.-3.name", "regions.x", "status.0", "cache.x", ""],
)
def test_a_path_that_is_not_there_is_missing(path: str) -> None:
    assert field_at(BODY, path) is MISSING


def test_a_body_that_is_no_object_has_no_fields() -> None:
    assert field_at("just text", "status") is MISSING
    assert field_at(None, "status") is MISSING
    assert field_at([1, 2], "1") == 2


def test_compare_fields_names_the_first_mismatch() -> None:
    assert compare_fields(BODY, {"status": "ok", "regions.1.name": "eu"}) is None
    assert compare_fields(BODY, {"status": "ok", "version": 1.8}) == "field version: expected 1.8, got '1.8.0'"
    assert compare_fields(BODY, {"dependencies.cache.status": "ok"}) == (
        "field dependencies.cache.status is missing from the response"
    )
    assert compare_fields(BODY, {"cache": "warm"}) == "field cache: expected 'warm', got None"
    assert compare_fields(BODY, {}) is None
