"""Local stand-ins for the outside world, for the tests and ``opsctl demo`` (stdlib only here)."""
