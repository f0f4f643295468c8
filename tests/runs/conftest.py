"""Unit tests here run isolated (tests/support/isolation.py) with the known built-ins."""

from tests.support.isolation import _isolated, builtins

__all__ = ["_isolated", "builtins"]
