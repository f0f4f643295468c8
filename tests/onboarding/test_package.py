"""opsctl.onboarding re-exports the public names of its modules, unchanged."""

from __future__ import annotations

import opsctl.onboarding
from opsctl.onboarding import progress, run, weeks

HOMES = {
    "WEEKS": weeks,
    "checklist_name": weeks,
    "onboarding_status": weeks,
    "parse_week": weeks,
    "OnboardingRun": run,
    "run_onboarding": run,
    "ItemProgress": progress,
    "Progress": progress,
    "WeekProgress": progress,
}


def test_every_public_name_is_the_object_of_its_module() -> None:
    assert sorted(opsctl.onboarding.__all__) == sorted(HOMES)
    for name, module in HOMES.items():
        assert getattr(opsctl.onboarding, name) is getattr(module, name), name


def test_the_weeks_and_their_checklists() -> None:
    assert weeks.WEEKS == ("1", "2", "3", "ongoing")
    assert [weeks.checklist_name(w) for w in weeks.WEEKS] == [
        "onboarding-week-1",
        "onboarding-week-2",
        "onboarding-week-3",
        "onboarding-ongoing",
    ]
