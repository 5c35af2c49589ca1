"""ETag and If-Match (shared/etag.py): one format in every service, and the version it names."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.etag import check_if_match, ensure_version, etag, parse_if_match
from shared.problems import PreconditionFailed, PreconditionRequired

pytestmark = pytest.mark.unit


@given(st.integers(min_value=0, max_value=2**63 - 1))
def test_the_etag_of_a_version_names_that_version_in_if_match(version: int) -> None:
    assert parse_if_match(etag(version)) == version
    ensure_version(version, parse_if_match(etag(version)))


@pytest.mark.parametrize("header", [None, "", "  "])
def test_an_update_without_if_match_is_a_428(header: str | None) -> None:
    with pytest.raises(PreconditionRequired):
        parse_if_match(header)


@pytest.mark.parametrize("header", ['W/"3"', '"x"', "3", '"3", "4"', '"ref-1.3"'])
def test_a_weak_foreign_or_ambiguous_tag_is_a_412(header: str) -> None:
    with pytest.raises(PreconditionFailed):
        parse_if_match(header)


def test_a_star_matches_any_version_and_a_list_may_repeat_one() -> None:
    assert parse_if_match("*") is None
    ensure_version(7, None)
    assert parse_if_match('"3", "3"') == 3


def test_a_stale_version_is_a_412_naming_the_current_etag() -> None:
    with pytest.raises(PreconditionFailed) as stale:
        ensure_version(4, 3)
    assert stale.value.extra["etag"] == '"4"'


def test_a_use_case_that_read_the_row_gets_its_current_etag_in_any_412() -> None:
    assert check_if_match('"5"', 5) == 5
    for header in ('"nope.1"', '"4"'):
        with pytest.raises(PreconditionFailed) as refused:
            check_if_match(header, 5)
        assert refused.value.extra["etag"] == '"5"'
