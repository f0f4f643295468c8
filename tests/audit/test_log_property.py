"""Property: any event list makes a log that verifies, and no single-byte change goes unnoticed."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from opsctl.audit.log import AuditLog

texts = st.text(max_size=30)
values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=6,
)
events = st.lists(
    st.fixed_dictionaries(
        {"run": texts, "env": texts, "actor": texts, "step": texts, "status": st.sampled_from(["passed", "failed"])},
        optional={"summary": texts, "detail": st.dictionaries(texts, values, max_size=3)},
    ),
    min_size=1,
    max_size=6,
)


def write(folder: Path, items: list[dict[str, Any]]) -> AuditLog:
    log = AuditLog(folder / "audit.jsonl")
    for item in items:
        log.append(item)
    return log


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items=events)
def test_any_event_list_verifies_and_reads_back(items: list[dict[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        log = write(Path(folder), items)
        result = log.verify()
        assert result.ok, result.message
        assert result.events == len(items)
        read = list(log.events())
        assert [{k: e[k] for k in item} for e, item in zip(read, items, strict=True)] == items


# No shrinking: each example already tries every byte of a line, and the failure names the bytes.
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
@given(items=events, data=st.data())
def test_every_single_byte_change_of_a_line_is_detected(items: list[dict[str, Any]], data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as folder:
        log = write(Path(folder), items)
        original = log.path.read_bytes()
        lines = original.splitlines(keepends=True)
        index = data.draw(st.integers(0, len(lines) - 1), label="line")
        flip = data.draw(st.integers(1, 255), label="xor")
        start = sum(len(line) for line in lines[:index])
        undetected = []
        # Every byte of the chosen line, its newline included.
        for offset in range(start, start + len(lines[index])):
            damaged = bytearray(original)
            damaged[offset] ^= flip
            log.path.write_bytes(bytes(damaged))
            if log.verify().ok:
                undetected.append(offset - start)
        assert undetected == [], f"changes at these bytes of line {index + 1} pass verify"
