"""The audit log (DESIGN section 5), in three parts, each with one job.

- :mod:`opsctl.audit.log`: the write side: the hash-chained
  :class:`~opsctl.audit.log.AuditLog` (append, verify) and the run's
  :class:`~opsctl.audit.log.Journal`, over :mod:`opsctl.audit.line` (one
  line's format: encode, chain, key, decode);
- :mod:`opsctl.audit.query`: every read: events (by run, environment, time,
  step, status), runs, releases, ``--since``, and everyone's history merged
  from the mirror;
- :mod:`opsctl.audit.mirror`: the central copy in S3 (upload, checkpoints,
  ``audit verify --remote``), given its parts in a
  :class:`~opsctl.audit.mirror.MirrorSite`.

Nothing is imported here: ``import opsctl.audit.log`` stays as light as it
looks, and ``opsctl --help`` never pays for the readers or the mirror.
"""
