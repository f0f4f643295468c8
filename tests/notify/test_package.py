"""opsctl.notify re-exports its public names lazily: importing one module loads only that module."""

from __future__ import annotations

import subprocess
import sys
from importlib import import_module

import pytest

import opsctl.notify
from opsctl.notify import channels, deliver, dispatch, messages

HOMES = {
    "CHANNELS": channels,
    "NotReady": channels,
    "configured_channels": channels,
    "secret_from_env": channels,
    "DeliveryResult": deliver,
    "RetryPolicy": deliver,
    "send": dispatch,
    "EVENTS": messages,
    "EventStyle": messages,
    "message_context": messages,
    "mrkdwn": messages,
    "render_json": messages,
}


def test_every_public_name_is_the_object_of_its_module() -> None:
    assert sorted(opsctl.notify.__all__) == sorted(HOMES)
    for name, module in HOMES.items():
        assert getattr(opsctl.notify, name) is getattr(module, name), name


def test_send_is_the_function_even_after_its_module_is_imported() -> None:
    # The module is `dispatch`, not `send`: a submodule of the same name would replace the function.
    import_module("opsctl.notify.dispatch")
    from opsctl.notify import send

    assert callable(send)
    assert send is dispatch.send


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError) as caught:
        _ = opsctl.notify.nothing_here  # type: ignore[attr-defined]
    assert str(caught.value) == "module 'opsctl.notify' has no attribute 'nothing_here'"
    with pytest.raises(ImportError, match=r"^cannot import name 'nothing_here' from 'opsctl.notify'"):
        from opsctl.notify import nothing_here  # type: ignore[attr-defined]  # noqa: F401


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("import opsctl.notify.deliver", "opsctl.notify,opsctl.notify.deliver"),
        ("import opsctl.notify.channels", "opsctl.notify,opsctl.notify.channels"),
        ("from opsctl.notify import RetryPolicy", "opsctl.notify,opsctl.notify.deliver"),
        (
            "from opsctl.notify import send",
            "opsctl.notify,opsctl.notify.channels,opsctl.notify.deliver,opsctl.notify.dispatch,opsctl.notify.messages",
        ),
    ],
)
def test_importing_one_module_does_not_drag_in_the_rest(statement: str, expected: str) -> None:
    script = f"""
import sys
{statement}
loaded = sorted(m for m in sys.modules if m == "opsctl.notify" or m.startswith("opsctl.notify."))
heavy = sorted({{m.split(".")[0] for m in sys.modules}} & {{"jinja2", "httpx"}})
print(",".join(loaded), ",".join(heavy))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False)
    assert done.stderr == ""
    assert done.stdout.splitlines() == [f"{expected} "]
