"""RunRequest: raw values in, typed and validated fields out, the journaled params unchanged."""

from __future__ import annotations

import pytest

from opsctl.engine.request import RunRequest, Waiver, make_waivers
from opsctl.errors import BadInput
from opsctl.values.imageref import ImageRef

INVALID = "'{image}' is not a valid image reference; use name:tag or name@sha256:digest, like hvb:1.8.0"


def test_build_types_the_cli_values_and_journals_them_as_before() -> None:
    request = RunRequest.build(
        image=" ghcr.io/team/hvb:1.8.0 ",
        timeout="15m",
        reason="p95 fix",
        approved_by=["lead@example.com"],
        supervisor=None,
        strategy="canary",
        confirmations=["security-scan"],
    )

    assert request.image == ImageRef("ghcr.io", "team/hvb", "1.8.0")
    assert request.timeout == 900.0
    assert request.approvers == ("lead@example.com",)
    assert request.confirmations == frozenset({"security-scan"})
    # Exactly the dict `opsctl deploy` has always journaled (and templates see as params).
    assert request.params() == {
        "image": "ghcr.io/team/hvb:1.8.0",
        "timeout": 900.0,
        "reason": "p95 fix",
        "approved_by": ["lead@example.com"],
        "supervisor": None,
        "strategy": "canary",
    }


def test_the_journaled_params_build_the_same_request_again() -> None:
    first = RunRequest.build(to=None, timeout="20s", reason=None, incident=" INC-42 ")
    again = RunRequest.from_params(first.params())

    assert first.params() == {"to": None, "timeout": 20.0, "reason": None, "incident": "INC-42"}
    assert again == first


def test_other_params_are_kept_as_given_in_their_place() -> None:
    request = RunRequest.from_params({"region": "eu", "image": "hvb:1.8.0", "who": "ann"})

    assert request.extra == {"region": "eu", "who": "ann"}
    assert request.params() == {"region": "eu", "image": "hvb:1.8.0", "who": "ann"}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"image": "hvb:1.8.0é"}, INVALID.format(image="hvb:1.8.0é")),
        ({"image": "hvb"}, "'hvb' has no tag or digest; name the exact version, like hvb:1.8.0"),
        ({"timeout": "soon"}, "--timeout soon: must be a duration like 30s or 5m"),
        ({"timeout": "0s"}, "--timeout 0s: must be longer than 0"),
        ({"timeout": "31d"}, "--timeout 31d: must be at most 30d"),
        ({"timeout": "soon", "image": "HVB:1"}, INVALID.format(image="HVB:1")),
    ],
    ids=["image-non-ascii", "image-no-tag", "timeout-text", "timeout-zero", "timeout-too-long", "image-first"],
)
def test_malformed_values_are_bad_input(params: dict[str, str], message: str) -> None:
    with pytest.raises(BadInput) as raised:
        RunRequest.from_params(params)

    assert str(raised.value) == message


def test_an_untagged_image_is_refused_however_the_request_is_made() -> None:
    bare = ImageRef.try_parse("hvb")
    assert bare is not None

    with pytest.raises(BadInput) as raised:
        RunRequest(image=bare)

    assert str(raised.value) == "'hvb' has no tag or digest; name the exact version, like hvb:1.8.0"


def test_a_blank_incident_is_no_incident() -> None:
    assert RunRequest.build(incident="  ").incident is None


def test_a_request_made_in_python_journals_what_is_set() -> None:
    request = RunRequest(image=ImageRef.parse("hvb:1.8.0"), timeout=30.0, approvers=("ann",))

    assert request.params() == {"image": "hvb:1.8.0", "timeout": 30.0, "approved_by": ["ann"]}
    assert RunRequest().params() == {}


def test_the_automatic_rollback_has_no_image_and_no_target() -> None:
    deploy = RunRequest.build(image="hvb:1.8.0", timeout="20s", reason="r")
    rollback = deploy.without_target()

    assert (rollback.image, rollback.to, rollback.timeout, rollback.reason) == (None, None, 20.0, "r")
    # As templates saw it before: the run's params with "to" and "image" set to None.
    assert rollback.params() == {"image": None, "timeout": 20.0, "reason": "r", "to": None}
    assert list(rollback.params()) == ["image", "timeout", "reason", "to"]


# --- waivers: --waive ID with the command's one --reason and --approved-by --------------------------------------

WAIVE_HELP = "a waiver records why the gate may be passed without being done, and who (other than you) agreed"


def test_waivers_take_the_commands_reason_and_approvers_and_are_no_params() -> None:
    waivers = make_waivers(
        ["security-scan", " performance-tests ", "security-scan"],
        reason=" scanner down, INC-7 ",
        approved_by=["lead@example.com", " lead@example.com", "cto@example.com"],
    )
    request = RunRequest.build(image="hvb:1.8.0", reason="scanner down, INC-7", waivers=waivers)

    approvers = ("lead@example.com", "cto@example.com")
    assert request.waivers == (
        Waiver("security-scan", "scanner down, INC-7", approvers),
        Waiver("performance-tests", "scanner down, INC-7", approvers),
    )
    assert request.waiver("performance-tests") == request.waivers[1]
    assert request.waiver("tests-confirmed") is None
    assert request.waivers[0].as_dict() == {
        "item": "security-scan",
        "reason": "scanner down, INC-7",
        "approved_by": ["lead@example.com", "cto@example.com"],
    }
    # Like --confirm, a waiver belongs to one invocation: it is not journaled as a param, nor resumed from one.
    assert request.params() == {"image": "hvb:1.8.0", "reason": "scanner down, INC-7"}
    assert request.without_target().waivers == request.waivers


def test_ids_named_on_the_command_line_come_with_their_flag() -> None:
    request = RunRequest.build(
        confirmations=["tests-confirmed", "code-review-confirmed"],
        waivers=make_waivers(["security-scan"], reason="r", approved_by="lead@example.com"),
    )

    assert request.gate_ids() == (
        ("--confirm", "code-review-confirmed"),
        ("--confirm", "tests-confirmed"),
        ("--waive", "security-scan"),
    )


@pytest.mark.parametrize(
    ("reason", "approved_by", "missing"),
    [
        (None, ["lead@example.com"], "--reason TEXT"),
        ("  ", ["lead@example.com"], "--reason TEXT"),
        ("no time", None, "--approved-by NAME"),
        ("no time", [" "], "--approved-by NAME"),
        (None, None, "--reason TEXT and --approved-by NAME"),
    ],
    ids=["no-reason", "blank-reason", "no-approver", "blank-approver", "neither"],
)
def test_a_waiver_without_a_reason_or_an_approver_is_bad_input(
    reason: str | None, approved_by: list[str] | None, missing: str
) -> None:
    with pytest.raises(BadInput) as raised:
        make_waivers(["security-scan", "performance-tests"], reason=reason, approved_by=approved_by)

    assert str(raised.value) == f"--waive security-scan --waive performance-tests needs {missing}: {WAIVE_HELP}"


def test_no_waive_needs_nothing() -> None:
    assert make_waivers([], reason=None, approved_by=None) == ()


def test_an_item_is_either_confirmed_or_waived() -> None:
    waivers = make_waivers(["security-scan"], reason="r", approved_by="lead@example.com")
    with pytest.raises(BadInput) as raised:
        RunRequest.build(confirmations=["security-scan"], waivers=waivers)

    assert str(raised.value) == (
        "--confirm security-scan and --waive security-scan: an item is either done (--confirm) "
        "or waived (--waive), not both"
    )
