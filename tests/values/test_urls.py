"""URLs in config files must be absolute http(s) URLs with a host."""

from __future__ import annotations

import pytest

from opsctl.values.urls import URL_HINT, check_http_url


@pytest.mark.parametrize(
    "url",
    [
        "https://hvb.example.com",
        "http://127.0.0.1:46619",
        "http://127.0.0.1:46619/",
        "https://hvb.example.com/api/v1",
        "HTTPS://HVB.EXAMPLE.COM",
        "http://[::1]:8080",
        "http://localhost",
    ],
)
def test_good_urls_are_kept_as_written(url: str) -> None:
    assert check_http_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "127.0.0.1:46619",
        "localhost:8080",
        "hvb.example.com",
        "/health",
        "ftp://files.example.com",
        "file:///etc/passwd",
        "https://",
        "http:///path-only",
        "http://127.0.0.1:99999",
        "http://127.0.0.1:port",
        " https://hvb.example.com",
        "https://hvb.example.com/a b",
        "https://hvb.example.com/\n",
        "",
    ],
    ids=[
        "no-scheme-ip",
        "no-scheme-host",
        "bare-host",
        "path",
        "ftp",
        "file",
        "no-host",
        "empty-host",
        "port-too-big",
        "port-not-a-number",
        "leading-space",
        "space",
        "newline",
        "empty",
    ],
)
def test_bad_urls(url: str) -> None:
    with pytest.raises(ValueError) as caught:
        check_http_url(url)
    assert str(caught.value) == URL_HINT == "must be an absolute http(s) URL like https://hvb.example.com"
