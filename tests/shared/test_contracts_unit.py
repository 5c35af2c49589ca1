"""Contracts put codes on the wire, never what a person typed."""

from datetime import date

import pytest

from shared.contracts import period_code

pytestmark = pytest.mark.unit

OCT_2021 = (date(2021, 10, 1), date(2021, 10, 31))


@pytest.mark.parametrize(
    "label", ["2021", "2021-10", "2021-Q3", "2020/21", "2020/21 Q1", "Wave Sep 2020"]
)
def test_a_generated_period_label_is_already_a_code_and_goes_as_it_is(label: str) -> None:
    assert period_code(label, *OCT_2021) == label


@pytest.mark.parametrize(
    "label", ["Wave 3 (Oct 2021)", "Mrs Smith, 12 Derwent Street", "Sept 2020", "2021-10 x"]
)
def test_a_typed_period_label_becomes_the_iso_interval_of_its_dates(label: str) -> None:
    assert period_code(label, *OCT_2021) == "2021-10-01/2021-10-31"


def test_a_typed_label_of_a_single_day_becomes_that_date() -> None:
    assert period_code("at the start", date(2020, 9, 30)) == "2020-09-30"
    assert period_code("unknown", None) == ""
