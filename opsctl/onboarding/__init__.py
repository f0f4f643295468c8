"""``opsctl onboard``: the seed's onboarding plan as checklists, with progress kept per person.

Weeks 1..3 and "ongoing" are the checklists ``onboarding-week-1`` ...
``onboarding-ongoing`` (a project's own file replaces the built-in). A run
takes one week and runs its open items through the checklist engine, as a
journaled run of its own: manual items not yet confirmed, and every
machine-checked item (re-checked each time). Progress lives in
``<state_dir>/onboarding/<who>.json``; an item stays done once it was
confirmed or passed, with when, by whom and in which run. Each finished item
is recorded as it finishes, so Ctrl-C keeps what was already confirmed.

- :mod:`~opsctl.onboarding.weeks`: the weeks, their checklists, ``--week``, the read-only status;
- :mod:`~opsctl.onboarding.run`: one week's run and the recording of what passed;
- :mod:`~opsctl.onboarding.progress`: the per-person progress file and what it says.

The modules import the engine and the workspace lazily, so these re-exports stay cheap.
"""

from opsctl.onboarding.progress import ItemProgress, Progress, WeekProgress
from opsctl.onboarding.run import OnboardingRun, run_onboarding
from opsctl.onboarding.weeks import WEEKS, checklist_name, onboarding_status, parse_week

__all__ = [
    "WEEKS",
    "ItemProgress",
    "OnboardingRun",
    "Progress",
    "WeekProgress",
    "checklist_name",
    "onboarding_status",
    "parse_week",
    "run_onboarding",
]
