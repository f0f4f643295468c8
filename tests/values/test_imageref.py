"""ImageRef: the one image-reference parser (OCI distribution grammar, ASCII only)."""

from __future__ import annotations

import re

import pytest

from opsctl.errors import BadInput
from opsctl.values.imageref import ImageRef, validate_image

SHA256 = "sha256:" + "a" * 64
SHA512 = "sha512:" + "0123456789abcdef" * 8
INVALID = "'{image}' is not a valid image reference; use name:tag or name@sha256:digest, like hvb:1.8.0"


@pytest.mark.parametrize(
    ("text", "registry", "repository", "tag", "digest"),
    [
        ("hvb:1.8.0", None, "hvb", "1.8.0", None),
        ("team/hvb:sha-4f3a9c1", None, "team/hvb", "sha-4f3a9c1", None),
        ("ghcr.io/team/hvb:1.8.0", "ghcr.io", "team/hvb", "1.8.0", None),
        ("registry.example.com:5000/team/hvb:1.8.0", "registry.example.com:5000", "team/hvb", "1.8.0", None),
        ("localhost:5000/hvb:1", "localhost:5000", "hvb", "1", None),
        ("localhost/hvb:1", "localhost", "hvb", "1", None),
        ("[::1]:5000/hvb:1", "[::1]:5000", "hvb", "1", None),
        ("Registry.Example.COM/hvb:1", "Registry.Example.COM", "hvb", "1", None),
        (f"hvb@{SHA256}", None, "hvb", None, SHA256),
        (f"hvb@{SHA512}", None, "hvb", None, SHA512),
        (f"ghcr.io/team/hvb:1.8.0@{SHA256}", "ghcr.io", "team/hvb", "1.8.0", SHA256),
        ("my_org/hvb-bot__x.y:V1_rc.2-a", None, "my_org/hvb-bot__x.y", "V1_rc.2-a", None),
        ("a--b:_", None, "a--b", "_", None),
        ("hvb:" + "t" * 128, None, "hvb", "t" * 128, None),
        ("  hvb:1.8.0\n", None, "hvb", "1.8.0", None),  # surrounding whitespace is ignored
    ],
)
def test_good_references_parse_into_their_parts(
    text: str, registry: str | None, repository: str, tag: str | None, digest: str | None
) -> None:
    ref = ImageRef.parse(text)

    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (registry, repository, tag, digest)
    assert str(ref) == text.strip()  # canonical text: what was given, nothing added
    assert ImageRef.parse(str(ref)) == ref
    assert validate_image(text) == text.strip()


@pytest.mark.parametrize(
    "text",
    [
        "hvb:1.8.0é",  # the grammar's \w is ASCII
        "hvé:1.8.0",
        "HVB:1.8.1",  # repositories are lower case
        "team/Hvb:1",
        "hvb 1.8",
        "hvb:1.8.0 extra",
        "hvb:-1.8.1",  # a tag starts with a word character
        "hvb:.1",
        "hvb:" + "t" * 129,  # at most 128 characters
        "hvb:",
        "hvb@",
        "hvb@sha256:" + "a" * 63,
        "hvb@sha256:" + "A" * 64,  # lower-case hex
        "hvb@sha512:" + "a" * 64,  # sha512 is 128 hex digits
        "hvb@sha384:" + "a" * 96,
        "hvb@md5:" + "a" * 32,
        f"hvb@{SHA256}@{SHA256}",
        "",
        "   ",
        ":1.8.0",
        "/hvb:1",
        "hvb/:1",
        "team//hvb:1",
        "-hvb:1",
        "hvb-:1",
        "hvb_-x:1",
        "reg.example.com:port/hvb:1",
        "-reg.example.com/hvb:1",
        "hvb:1.8.0;rm",
    ],
)
def test_bad_references_are_bad_input_naming_the_text(text: str) -> None:
    with pytest.raises(BadInput) as raised:
        ImageRef.parse(text)

    assert str(raised.value) == INVALID.format(image=text)
    assert ImageRef.try_parse(text) is None


@pytest.mark.parametrize(
    ("text", "example"),
    [
        ("hvb", "hvb:1.8.0"),
        ("registry.example.com:5000/team/hvb", "registry.example.com:5000/team/hvb:1.8.0"),
        (" hvb ", "hvb:1.8.0"),
    ],
)
def test_a_reference_without_tag_or_digest_names_an_exact_version(text: str, example: str) -> None:
    with pytest.raises(BadInput) as raised:
        ImageRef.parse(text)

    assert str(raised.value) == f"'{text}' has no tag or digest; name the exact version, like {example}"


def test_a_name_longer_than_255_characters_is_refused() -> None:
    name = "ghcr.io/" + "/".join(["abcdefgh"] * 28)  # 8 + 28 * 9 - 1 = 259 characters
    assert ImageRef.try_parse(name[:-4] + ":1") is not None  # 255 is fine

    with pytest.raises(BadInput) as raised:
        ImageRef.parse(f"{name}:1.8.0")

    assert str(raised.value) == (
        f"'{name}:1.8.0' is not a valid image reference: its name is 259 characters long, at most 255 are allowed"
    )


def test_platform_reports_may_be_bare_names_and_read_as_latest() -> None:
    bare = ImageRef.try_parse("ghcr.io/team/hvb")

    assert bare == ImageRef("ghcr.io", "team/hvb")
    assert bare is not None
    assert bare.version == "latest"


def test_name_and_version() -> None:
    tagged = ImageRef.parse(f"ghcr.io/team/hvb:1.8.0@{SHA256}")
    pinned = ImageRef.parse(f"hvb@{SHA512}")

    assert tagged.name == "ghcr.io/team/hvb"
    assert tagged.version == "1.8.0"  # what the bot reports: the tag, even when a digest pins it
    assert pinned.name == "hvb"
    assert pinned.version == SHA512


def test_the_constructor_checks_its_fields_like_the_parser() -> None:
    assert str(ImageRef("ghcr.io", "team/hvb", "1.8.0")) == "ghcr.io/team/hvb:1.8.0"

    with pytest.raises(BadInput, match=re.escape(INVALID.format(image="hvb:1.8.0é"))):
        ImageRef(None, "hvb", "1.8.0é")
    with pytest.raises(BadInput, match=re.escape(INVALID.format(image="HVB:1"))):
        ImageRef(None, "HVB", "1")
    # "ghcr.io" in the repository would be read back as a registry: not a round trip, refused.
    with pytest.raises(BadInput, match=re.escape(INVALID.format(image="ghcr.io/hvb:1"))):
        ImageRef(None, "ghcr.io/hvb", "1")
