"""Every filter of GET /api/v1/referrals has an index that starts with its column."""

import dataclasses

import pytest
from sqlalchemy import Table

from services.referrals.models import Referral, ReferralCategory
from services.referrals.repository import ReferralFilters

pytestmark = pytest.mark.unit

REFERRAL = Referral.metadata.tables["referral"]
CATEGORY = ReferralCategory.metadata.tables["referral_category"]

# The column each filter of ReferralFilters narrows on.
FILTER_COLUMNS = {
    "locality_code": (REFERRAL, "locality_code"),
    "status": (REFERRAL, "status"),
    "track": (REFERRAL, "track"),
    "category_code": (CATEGORY, "category_code"),
    "overdue": (REFERRAL, "due_at"),
    "received_from": (REFERRAL, "received_at"),
    "received_to": (REFERRAL, "received_at"),
}


def leading_columns(table: Table) -> set[str]:
    return {index.columns[0].name for index in table.indexes} | {table.primary_key.columns[0].name}


def test_every_list_filter_is_known_here() -> None:
    assert {field.name for field in dataclasses.fields(ReferralFilters)} == set(FILTER_COLUMNS)


@pytest.mark.parametrize("name", sorted(FILTER_COLUMNS))
def test_each_list_filter_has_an_index(name: str) -> None:
    table, column = FILTER_COLUMNS[name]
    assert column in leading_columns(table)


def test_the_busiest_filter_is_served_in_list_order() -> None:
    columns = {tuple(column.name for column in index.columns) for index in REFERRAL.indexes}
    assert ("locality_code", "received_at", "id") in columns
