"""What every HTTP client here shares about retrying.

Reading ``Retry-After``, which answers to retry, a :class:`RetryPolicy`
(attempts, backoff, a wait budget, timeouts and the per-request deadline they
make) and transport errors in words. httpx is imported only inside functions.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds (delta-seconds or an HTTP date); None when absent or unreadable."""
    if not value or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def is_retryable(status: int) -> bool:
    """429 (slow down) and 5xx (the service failed) may succeed later; other errors will not."""
    return status == 429 or status >= 500


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: attempts, exponential backoff, a total wait budget, and timeouts.

    ``sleep`` is injectable so that tests do not wait.
    """

    attempts: int = 3
    backoff: float = 0.5  # first delay; doubles on each retry
    max_delay: float = 2.0  # cap for one computed delay (Retry-After is honoured up to the budget)
    budget: float = 5.0  # total seconds spent waiting between attempts
    connect_timeout: float = 3.0
    read_timeout: float = 5.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)

    def timeout(self) -> httpx.Timeout:
        """The httpx timeouts of one request (connect, and read/write/pool)."""
        import httpx

        return httpx.Timeout(self.read_timeout, connect=self.connect_timeout)

    @property
    def request_deadline(self) -> float:
        """Seconds one request may take in all (connect, send, answer), however slowly bytes come."""
        return self.connect_timeout + self.read_timeout

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait after failed ``attempt`` (1-based): the server's word, else backoff."""
        if retry_after is not None:
            return max(0.0, retry_after)
        return float(min(self.max_delay, self.backoff * 2.0 ** (attempt - 1)))


def transport_problem(exc: Exception) -> str:
    """A transport error in words, without the URL (which may be the secret)."""
    import httpx

    if isinstance(exc, httpx.ConnectTimeout):
        return "connection timed out"
    if isinstance(exc, httpx.TimeoutException):
        return "no answer within the timeout"
    if isinstance(exc, httpx.ConnectError):
        return "connection refused" if "refused" in str(exc).lower() else "cannot connect"
    return f"request failed ({type(exc).__name__})"
