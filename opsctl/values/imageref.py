"""Container image references: ``hvb:1.8.0``, ``registry.example.com:5000/team/hvb@sha256:...``.

One parser for the whole tool (the CLI, the run request, the ECS and Fly
drivers, promotion, change notes, notifications), following the OCI
distribution reference grammar::

    reference  := name [":" tag] ["@" digest]
    name       := [registry "/"] path-component ["/" path-component]*
    registry   := host [":" port]          host: DNS name, IPv4, or [IPv6]
    path-component := [a-z0-9]+ (separator [a-z0-9]+)*    separator: "." "_" "__" "-"+
    tag        := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
    digest     := "sha256:" 64 hex | "sha512:" 128 hex (lower case)

Everything is ASCII: the grammar's ``\\w`` means ``[A-Za-z0-9_]``, not every
letter Python's ``re`` would accept. As in Docker, the first path component
is the registry when it contains ``.`` or ``:``, is ``localhost``, or has
upper-case letters (``team/hvb`` is a repository; ``ghcr.io/team/hvb`` is not).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from opsctl.errors import BadInput

NAME_MAX = 255  # the distribution spec's limit on registry + repository

_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_LABEL = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST = re.compile(rf"(?:{_LABEL}(?:\.{_LABEL})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_DIGEST = re.compile(r"sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128}")

_Fields = tuple[str | None, str, str | None, str | None]


class _Malformed(ValueError):
    """Internal: the text breaks the grammar (``why`` is set when a plainer message helps)."""

    def __init__(self, why: str = "") -> None:
        super().__init__(why)
        self.why = why


@dataclass(frozen=True)
class ImageRef:
    """A parsed image reference; ``str(ref)`` gives back its canonical text.

    Build one with :meth:`parse` (user input: a tag or digest is required) or
    :meth:`try_parse` (what a platform reports: a bare name is allowed). The
    constructor checks its fields against the same grammar.
    """

    registry: str | None
    repository: str
    tag: str | None = None
    digest: str | None = None

    def __post_init__(self) -> None:
        text = str(self)
        try:
            fields = _split(text)
        except _Malformed as exc:
            raise _bad_input(text, exc) from None
        if fields != (self.registry, self.repository, self.tag, self.digest):
            raise _bad_input(text, _Malformed())  # e.g. a registry smuggled into the repository

    @classmethod
    def parse(cls, text: str) -> ImageRef:
        """Parse user input; BadInput names the text and says what a valid reference looks like.

        Surrounding whitespace is ignored; the reference must name an exact
        version (a tag or a digest), since deploying ``hvb`` means "whatever
        latest is today".
        """
        stripped = text.strip()
        try:
            fields = _split(stripped)
        except _Malformed as exc:
            raise _bad_input(text, exc) from None
        ref = cls(*fields)
        if ref.tag is None and ref.digest is None:
            raise BadInput(f"'{text}' has no tag or digest; name the exact version, like {stripped}:1.8.0")
        return ref

    @classmethod
    def try_parse(cls, text: str) -> ImageRef | None:
        """Parse what a platform reports (a bare name is allowed); None when it is no reference."""
        try:
            return cls(*_split(text.strip()))
        except _Malformed:
            return None

    def __str__(self) -> str:
        text = f"{self.registry}/{self.repository}" if self.registry else self.repository
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text

    @property
    def name(self) -> str:
        """Registry and repository, without tag or digest: ``ghcr.io/team/hvb``."""
        return f"{self.registry}/{self.repository}" if self.registry else self.repository

    @property
    def version(self) -> str:
        """What the bot reports as its version: the tag, else the digest, else ``latest``.

        A registry serves ``latest`` for a bare name, so that is the version a
        platform runs when it was given one.
        """
        return self.tag or self.digest or "latest"


def _bad_input(text: str, exc: _Malformed) -> BadInput:
    shown = _shown(text)
    if exc.why:
        return BadInput(f"{shown} is not a valid image reference: {exc.why}")
    return BadInput(f"{shown} is not a valid image reference; use name:tag or name@sha256:digest, like hvb:1.8.0")


def _shown(text: str, limit: int = 512) -> str:
    """``text`` quoted for a message, cut past the longest valid reference: a 1 MB argument stays one short line."""
    if len(text) <= limit:
        return f"'{text}'"
    return f"'{text[: limit - 3]}...' ({len(text):,} characters)"


def _split(text: str) -> _Fields:
    """(registry, repository, tag, digest) of ``text``, or _Malformed."""
    rest, at, digest = text.partition("@")
    if at and not _DIGEST.fullmatch(digest):
        raise _Malformed()
    # A ":" after the last "/" starts the tag; one before it belongs to the registry's port.
    name, colon, tag = rest.rpartition(":") if ":" in rest.rpartition("/")[2] else (rest, "", "")
    if colon and not _TAG.fullmatch(tag):
        raise _Malformed()
    if len(name) > NAME_MAX:
        raise _Malformed(f"its name is {len(name)} characters long, at most {NAME_MAX} are allowed")
    first, slash, remainder = name.partition("/")
    registry = first if slash and _is_registry(first) else None
    repository = remainder if registry is not None else name
    if registry is not None and not _HOST.fullmatch(registry):
        raise _Malformed()
    if not all(_COMPONENT.fullmatch(part) for part in repository.split("/")):
        raise _Malformed()
    return registry, repository, tag or None, digest or None


def _is_registry(component: str) -> bool:
    return "." in component or ":" in component or component == "localhost" or component.lower() != component


def validate_image(image: str) -> str:
    """The canonical text of ``image`` (see :meth:`ImageRef.parse`), or BadInput."""
    return str(ImageRef.parse(image))
