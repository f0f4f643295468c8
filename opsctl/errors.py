"""The error hierarchy and the process exit codes (DESIGN section 6).

Every expected failure is an :class:`OpsctlError`; the CLI catches it at one
edge and prints its message as one line. Anything else is a bug and keeps its
traceback (behind ``--debug``).
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1  # a gate or verification failed (and any rollback succeeded)
    BAD_INPUT = 2  # usage, config, checklist or runbook file
    NEEDS_HUMAN = 3  # the automatic rollback failed, or the platform state is unknown
    LOCKED = 4  # the environment is locked by another run
    UNAVAILABLE = 5  # a service opsctl needs is unavailable before any change; nothing was changed
    INTERRUPTED = 130  # Ctrl-C; the run is journaled and can be resumed


class OpsctlError(Exception):
    """An expected failure: one line for the user, and the exit code it means."""

    exit_code: ExitCode = ExitCode.BAD_INPUT

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class BadInput(OpsctlError):
    """Usage, config, checklist or runbook problems: the user must change something."""

    exit_code = ExitCode.BAD_INPUT


class ConfigError(BadInput):
    """A file that cannot be used; the message starts with ``file:line:``."""


class RunFailed(OpsctlError):
    """A gate or a verification failed."""

    exit_code = ExitCode.FAILED


class NeedsHuman(OpsctlError):
    """The platform is in a state that opsctl could not repair by itself."""

    exit_code = ExitCode.NEEDS_HUMAN


class Locked(OpsctlError):
    """Another run holds the environment's lock."""

    exit_code = ExitCode.LOCKED


class Unavailable(OpsctlError):
    """A service opsctl needs (AWS, S3, a registry...) cannot be reached before any change; try again."""

    exit_code = ExitCode.UNAVAILABLE


class Interrupted(OpsctlError):
    """The user interrupted the run (SIGINT/SIGTERM)."""

    exit_code = ExitCode.INTERRUPTED
