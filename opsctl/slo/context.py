"""The probe context of a look at one environment's budget outside a run (``opsctl slo``, ``opsctl report``).

It is :class:`opsctl.health.context.EnvLook`, the one ad-hoc ProbeContext
(``opsctl health ENV`` uses it too); this module keeps the name where the
SLO code and its callers import it.
"""

from __future__ import annotations

from opsctl.health.context import EnvLook

__all__ = ["EnvLook"]
