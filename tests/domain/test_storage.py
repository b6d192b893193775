"""Which object keys a source storage imports: Label Studio's prefix, recursion and key filter rules."""

from __future__ import annotations

import time

import pytest

from functions.domain.errors import ValidationFailed
from functions.domain.storage import SOURCE, Storage, clean_changes, wants_key


def storage(**fields) -> Storage:
    return Storage(id=1, project_id=1, kind=SOURCE, created_by=1, bucket="media", **fields)


def test_the_key_filter_matches_at_the_start_of_the_key_as_label_studio_does():
    images = storage(regex_filter=r"img_\d+\.png")
    assert wants_key(images, "img_1.png")
    assert wants_key(images, "img_1.png.bak")  # re.match: anchored at the start only
    assert not wants_key(images, "old/img_1.png")


def test_a_nested_quantifier_key_filter_fails_in_linear_time():
    # A backtracking engine takes about 1 s on the short key, twice that per character more.
    nested = storage(regex_filter="(a+)+$")
    for key in ("a" * 24 + "!", "a" * 1000 + "!"):
        started = time.perf_counter()
        wanted = wants_key(nested, key)
        elapsed = time.perf_counter() - started
        assert not wanted
        assert elapsed < 0.1, f"{elapsed:.2f} s on {len(key)} characters"
    assert wants_key(nested, "aaa")


@pytest.mark.parametrize("pattern", ["(?!tmp/).*", r"(\w+)/\1", "x" * 1001, ".{500}"])
def test_a_key_filter_linear_time_matching_cannot_have_is_refused_naming_the_field(pattern):
    with pytest.raises(ValidationFailed) as caught:
        clean_changes(SOURCE, {"regex_filter": pattern})
    assert list(caught.value.errors) == ["regex_filter"]


def test_a_saved_key_filter_that_no_longer_compiles_fails_naming_the_field():
    with pytest.raises(ValidationFailed) as caught:
        wants_key(storage(regex_filter="(?<!tmp).*"), "a.txt")
    assert list(caught.value.errors) == ["regex_filter"]
