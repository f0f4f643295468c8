"""Who is on call: primary, secondary and escalation, from PagerDuty or a static weekly rotation.

Modules: :mod:`~opsctl.oncall.model` (the answer), :mod:`~opsctl.oncall.rotation`
(a weekly rotation computed from ``oncall.rotation``), :mod:`~opsctl.oncall.pagerduty`
(PagerDuty's REST API: ``GET /oncalls`` and escalating an incident) and
:mod:`~opsctl.oncall.lookup` (:func:`~opsctl.oncall.lookup.who_is_on_call`, over both).
"""
