"""Action families; each module registers its actions with :mod:`opsctl.engine.actions`."""
