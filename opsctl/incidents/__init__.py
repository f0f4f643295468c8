"""Incidents, from detection to post-mortem, kept in the audit log.

An incident is not stored anywhere else: ``opsctl incident open`` writes an
``incident opened`` event, and every later fact about it (acknowledgement,
notes, resolution, post-mortem) is one more audit event carrying
``incident: INC-<n>``. Rollback and hot-patch runs started with
``--incident`` carry the same field on every event, so an incident's
timeline is simply the audit events that name it.

Modules: :mod:`~opsctl.incidents.model` (severities, targets, the decision
matrix, the folded incident), :mod:`~opsctl.incidents.store` (reading and
the id sequence), :mod:`~opsctl.incidents.lifecycle` (open, ack, note,
resolve), :mod:`~opsctl.incidents.timeline`, :mod:`~opsctl.incidents.postmortem`
and :mod:`~opsctl.incidents.metrics` (what ``opsctl report`` calls).
"""
