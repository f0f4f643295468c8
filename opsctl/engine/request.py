"""What a person asked a run to do: :class:`RunRequest`, built and checked in the core.

The CLI hands the raw option values (``--image hvb:1.8.0``, ``--timeout 15m``)
to :meth:`RunRequest.build`; a Python caller does the same, or passes the
params mapping to :func:`opsctl.runs.execute`. Either way a malformed
value is BadInput before anything runs. ``resume`` rebuilds the request from
the params the run journaled, which :meth:`RunRequest.params` reproduces
exactly (they are also what templates see as ``params``).

Manual gates given on the command line are not params: ``confirmations``
(``--confirm ID``: done) and ``waivers`` (``--waive ID``: not done, let through
with a reason and an approver other than the person running) belong to one
invocation; ``resume`` takes its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypedDict, Unpack

from opsctl.errors import BadInput
from opsctl.values.durations import parse_timeout
from opsctl.values.imageref import ImageRef


class RequestParams(TypedDict, total=False):
    """The typed keys of a run's params, as the CLI passes them (raw) or the journal holds them."""

    image: str | ImageRef | None
    to: str | None
    timeout: str | float | None
    reason: str | None
    incident: str | None
    approved_by: Sequence[str] | str | None
    supervisor: str | None
    strategy: str | None


# Journal key -> field, for the keys whose field has another name.
_FIELD_OF = {"approved_by": "approvers"}
_TYPED = ("image", "to", "timeout", "reason", "incident", "approved_by", "supervisor", "strategy")


@dataclass(frozen=True)
class Waiver:
    """A manual gate let through without being done (``--waive ID --reason TEXT --approved-by NAME``)."""

    item: str
    reason: str
    approved_by: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"item": self.item, "reason": self.reason, "approved_by": list(self.approved_by)}


def make_waivers(
    ids: Iterable[str], *, reason: str | None, approved_by: Sequence[str] | str | None
) -> tuple[Waiver, ...]:
    """``--waive`` ids with the command's one ``--reason`` and ``--approved-by`` (BadInput when one is missing).

    One reason and one set of approvers cover every waiver of a command: a person
    waiving several gates at once answers for them together, and says so once.
    """
    items = tuple(dict.fromkeys(i.strip() for i in ids))
    if not items:
        return ()
    why = (reason or "").strip()
    approvers = tuple(dict.fromkeys(a.strip() for a in _approvers(approved_by) if a.strip()))
    missing = [flag for flag, given in (("--reason TEXT", why), ("--approved-by NAME", approvers)) if not given]
    if missing:
        flags = " ".join(f"--waive {i}" for i in items)
        raise BadInput(
            f"{flags} needs {' and '.join(missing)}: a waiver records why the gate may be passed "
            "without being done, and who (other than you) agreed"
        )
    return tuple(Waiver(item, why, approvers) for item in items)


@dataclass(frozen=True)
class RunRequest:
    """The inputs of one run: typed, validated, immutable.

    ``extra`` holds any other parameter (``checklist run --set key=value``,
    the person an onboarding run is for); ``recorded`` names the params the
    journal records, in order (None: every typed field that is set).
    """

    image: ImageRef | None = None
    to: str | None = None  # the release a rollback puts back (id or image)
    timeout: float | None = None  # seconds the rollout may take
    reason: str | None = None
    incident: str | None = None
    approvers: tuple[str, ...] = ()
    supervisor: str | None = None
    strategy: str | None = None
    confirmations: frozenset[str] = frozenset()  # manual gates already done (--confirm ID)
    waivers: tuple[Waiver, ...] = ()  # manual gates let through without being done (--waive ID)
    extra: Mapping[str, Any] = field(default_factory=dict)
    recorded: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.image is not None and self.image.tag is None and self.image.digest is None:
            raise BadInput(f"'{self.image}' has no tag or digest; name the exact version, like {self.image}:1.8.0")
        both = [w.item for w in self.waivers if w.item in self.confirmations]
        if both:
            raise BadInput(
                f"--confirm {both[0]} and --waive {both[0]}: an item is either done (--confirm) "
                "or waived (--waive), not both"
            )

    @classmethod
    def build(
        cls, *, confirmations: Iterable[str] = (), waivers: Iterable[Waiver] = (), **params: Unpack[RequestParams]
    ) -> RunRequest:
        """Validate raw values (``timeout="15m"``); the journal records the keys given, in order."""
        return cls.from_params(params, confirmations=confirmations, waivers=waivers)

    @classmethod
    def from_params(
        cls, params: Mapping[str, Any], *, confirmations: Iterable[str] = (), waivers: Iterable[Waiver] = ()
    ) -> RunRequest:
        """Validate a params mapping (raw CLI values, ``--set`` pairs or journaled params).

        Keys other than the typed ones are kept as they are in ``extra``.
        """
        typed: dict[str, Any] = {}
        for key in _TYPED:  # in this order, so that a bad image is reported before a bad timeout
            if key in params:
                typed[_FIELD_OF.get(key, key)] = _PARSERS.get(key, _text)(params[key])
        extra = {k: v for k, v in params.items() if k not in _TYPED}
        return cls(
            **typed,
            confirmations=frozenset(confirmations),
            waivers=tuple(waivers),
            extra=extra,
            recorded=tuple(params),
        )

    def waiver(self, item: str) -> Waiver | None:
        """The waiver given for manual item ``item``, if any."""
        return next((w for w in self.waivers if w.item == item), None)

    def gate_ids(self) -> tuple[tuple[str, str], ...]:
        """Every manual item id named on the command line, with its flag: checked against the runbook's."""
        confirmed = (("--confirm", item) for item in sorted(self.confirmations))
        return (*confirmed, *(("--waive", w.item) for w in self.waivers))

    def params(self) -> dict[str, Any]:
        """The params as the journal records them and templates see them."""
        names = self.recorded if self.recorded is not None else self._set_keys()
        return {name: self._journaled(name) for name in names}

    def without_target(self) -> RunRequest:
        """This request for the automatic rollback: no image, no ``--to`` (the last verified release)."""
        names = self.params().keys()
        recorded = (*names, *(n for n in ("to", "image") if n not in names))
        return replace(self, image=None, to=None, recorded=recorded)

    def _set_keys(self) -> tuple[str, ...]:
        typed = tuple(key for key in _TYPED if self._journaled(key) not in (None, []))
        return (*typed, *self.extra)

    def _journaled(self, name: str) -> Any:
        if name not in _TYPED:
            return self.extra.get(name)
        value = getattr(self, _FIELD_OF.get(name, name))
        if name == "image":
            return None if value is None else str(value)
        if name == "approved_by":
            return list(value)
        return value


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return str(value)


def _incident(value: Any) -> str | None:
    text = _text(value)
    return (text.strip() or None) if text is not None else None


def _image(value: Any) -> ImageRef | None:
    if value is None or isinstance(value, ImageRef):
        return value
    return ImageRef.parse(str(value))


def _timeout(value: Any) -> float | None:
    if value is None:
        return None
    try:
        return parse_timeout(value)
    except ValueError as exc:  # malformed, zero, or longer than anything opsctl waits for
        raise BadInput(f"--timeout {value}: {exc}") from None


def _approvers(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    names = [value] if isinstance(value, str) else list(value)
    return tuple(str(name) for name in names)


_PARSERS = {"image": _image, "timeout": _timeout, "incident": _incident, "approved_by": _approvers}
