"""Post-deploy verification of the Hotel Voice Bot: health probes, SLO measurements, the ad-hoc report.

The modules here know nothing of checklists or the CLI: they take a
:class:`~opsctl.health.client.HealthClient` and plain values and return
:class:`~opsctl.engine.outcome.Outcome` objects (actions in
``opsctl.actions.health`` / ``opsctl.actions.metrics`` wrap them) or
:class:`~opsctl.status.health.ProbeResult` rows (``opsctl health ENV``).
What they need of an environment is a :class:`~opsctl.health.context.ProbeContext`:
a run's context, or the ad-hoc one of ``opsctl health ENV`` (no run, no journal).
Nothing on the ``opsctl --help`` path imports this package.
"""
