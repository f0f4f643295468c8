"""SIGTERM raises KeyboardInterrupt inside ``sigterm_as_interrupt`` (main thread), and only there."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from opsctl.process.signals import sigterm_as_interrupt


def _sigterm_self() -> None:
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(2)  # the handler runs between bytecodes: it interrupts this sleep at once


def test_sigterm_inside_is_a_keyboard_interrupt_and_the_old_handler_comes_back() -> None:
    seen: list[int] = []

    def previous(signum: int, frame: object) -> None:
        seen.append(signum)

    original = signal.signal(signal.SIGTERM, previous)
    try:
        started = time.monotonic()
        with pytest.raises(KeyboardInterrupt), sigterm_as_interrupt():
            _sigterm_self()
        assert time.monotonic() - started < 1.5
        assert signal.getsignal(signal.SIGTERM) is previous
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.05)
        assert seen == [signal.SIGTERM]
    finally:
        signal.signal(signal.SIGTERM, original)


def test_the_old_handler_comes_back_when_the_block_ends_normally() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with sigterm_as_interrupt():
        assert signal.getsignal(signal.SIGTERM) is not before
    assert signal.getsignal(signal.SIGTERM) is before


def test_outside_the_main_thread_it_does_nothing() -> None:
    before = signal.getsignal(signal.SIGTERM)
    inside: list[object] = []

    def worker() -> None:
        with sigterm_as_interrupt():
            inside.append(signal.getsignal(signal.SIGTERM))

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(5)
    assert inside == [before]
    assert signal.getsignal(signal.SIGTERM) is before
