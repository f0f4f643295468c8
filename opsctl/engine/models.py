"""Checklist and runbook file models (DESIGN section 2)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from opsctl.config import Delay, Duration, Model

ItemId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$", max_length=64)]
ChangeType = Literal["standard", "normal", "emergency"]


def _retry_shorthand(value: Any) -> Any:
    # `retry: 3` is the common case; `retry: {count: 3, interval: 10s}` the full form.
    return {"count": value} if isinstance(value, int) and not isinstance(value, bool) else value


class Retry(Model):
    count: int = Field(0, ge=0, le=100)
    interval: Delay = 5.0  # 0s: retry at once


class Item(Model):
    id: ItemId
    title: str = Field(min_length=1)
    uses: str
    with_: dict[str, Any] = Field(default_factory=dict, alias="with")
    blocking: bool = True
    when: str | None = Field(None, description="Jinja2 expression; the item is skipped when false")
    retry: Annotated[Retry, BeforeValidator(_retry_shorthand)] = Retry()
    timeout: Duration | None = None
    needs: list[ItemId] = Field(default_factory=list, description="ids of items that must finish first")
    mutates: bool | None = Field(None, description="skip in dry runs (default: the action's own setting)")


class Checklist(Model):
    title: str
    description: str = ""
    concurrency: int = Field(4, ge=1, le=32)
    items: list[Item] = Field(min_length=1)


class Step(Model):
    id: ItemId
    title: str = Field(min_length=1)
    checklist: str | None = None
    uses: str | None = None
    with_: dict[str, Any] = Field(default_factory=dict, alias="with")
    when: str | None = None
    timeout: Duration | None = None
    on_failure: Literal["stop", "rollback", "continue"] = "stop"
    mutates: bool | None = None


class Runbook(Model):
    title: str
    description: str = ""
    change_type: ChangeType = "normal"
    rollback_runbook: str | None = Field(None, description="runbook run when a step says on_failure: rollback")
    steps: list[Step] = Field(min_length=1)
