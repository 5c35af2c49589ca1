"""Input rules every service applies the same way: organisation codes, text without control
characters, dates of birth. A request model refuses what breaks them with a 422 naming the field.
"""

import re
import types
import typing
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Field,
    ValidationInfo,
    field_validator,
)

# One pattern for every organisation code: request bodies, `clients create` and `token mint`.
ORGANISATION_CODE_PATTERN = r"^[A-Z0-9][A-Z0-9-]{1,63}$"
ORGANISATION_CODE_RULE = (
    "2-64 characters: capital letters, digits and hyphens, starting with a letter or digit "
    "(e.g. CLEVELAND-POLICE)"
)

OrganisationCode = Annotated[
    str,
    Field(
        pattern=ORGANISATION_CODE_PATTERN,
        description=f"An organisation code: {ORGANISATION_CODE_RULE}.",
        examples=["CLEVELAND-POLICE"],
    ),
]

# C0 controls other than tab, line feed and carriage return, DEL, and C1 controls: invisible,
# they hide text from readers and break exports (a NUL ends a C string).
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
EARLIEST_BIRTH_DATE = date(1900, 1, 1)


def is_organisation_code(value: str) -> bool:
    return re.fullmatch(ORGANISATION_CODE_PATTERN, value) is not None


def refuse_control_characters(value: Any) -> Any:
    """The value unchanged, unless some text in it holds a control character (ValueError)."""
    if isinstance(value, str):
        if _CONTROL_CHARACTERS.search(value):
            raise ValueError("must not contain control characters (NUL, escape, ...)")
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            refuse_control_characters(item)
    return value


class PlainTextModel(BaseModel):
    """A request model whose text fields refuse control characters (tab and newline are fine),
    and whose fields take only the JSON type their schema names: pydantic would otherwise read
    `false` as the number 0 and `0` as the date 1970-01-01, answers the contract never promised.
    """

    @field_validator("*", mode="before", check_fields=False)
    @classmethod
    def _refuse_other_json_types(cls, value: Any, info: ValidationInfo) -> Any:
        field = cls.model_fields.get(info.field_name or "")
        return refuse_coercion(value, field.annotation if field else None)

    @field_validator("*", mode="after", check_fields=False)
    @classmethod
    def _refuse_control_characters(cls, value: Any) -> Any:
        return refuse_control_characters(value)


def refuse_coercion(value: Any, annotation: Any) -> Any:
    """The value unchanged, unless it is a boolean for a field that takes no boolean, or a
    number for a date or timestamp (ValueError)."""
    kinds = _leaf_types(annotation)
    if isinstance(value, bool) and kinds and bool not in kinds and Any not in kinds:
        raise ValueError("must not be true or false")
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if is_number and kinds & {date, datetime} and not kinds & {int, float, Any}:
        raise ValueError("must be an ISO 8601 date (YYYY-MM-DD) or timestamp, not a number")
    return value


def _leaf_types(annotation: Any) -> set[Any]:
    """The types a field's annotation allows at its top level (through Optional and unions)."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _leaf_types(typing.get_args(annotation)[0])
    if origin is typing.Union or origin is types.UnionType:
        return set().union(*(_leaf_types(arg) for arg in typing.get_args(annotation)))
    if annotation is None:
        return set()
    return {origin or annotation}


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")  # a timestamp starts with one, a day is one


def _iso_text_only(value: Any) -> Any:
    # pydantic reads `0.5` (number or text) as seconds since 1970: refuse it in favour of ISO.
    if not isinstance(value, datetime | date) and (
        not isinstance(value, str) or not _ISO_DATE.match(value.strip())
    ):
        raise ValueError("must be an ISO 8601 timestamp, e.g. 2026-11-23T10:00:00Z")
    return value


# A timestamp given as ISO 8601 text (query parameters such as `as_of`), never epoch seconds.
IsoDateTime = Annotated[datetime, BeforeValidator(_iso_text_only)]


def _iso_date_text_only(value: Any) -> Any:
    # As for timestamps: `0` or `0.5` would be read as a day in 1970.
    if not isinstance(value, date) and (
        not isinstance(value, str) or not _ISO_DATE.fullmatch(value.strip())
    ):
        raise ValueError("must be a calendar date, YYYY-MM-DD")
    return value


# A calendar day given as ISO 8601 text (query parameters such as `from` and `to`).
IsoDate = Annotated[date, BeforeValidator(_iso_date_text_only)]


def _calendar_date_only(value: Any) -> Any:
    # pydantic reads a number as seconds since 1970: `0` would be a birth on 1 January 1970.
    if isinstance(value, int | float):
        raise ValueError("must be a calendar date, YYYY-MM-DD")
    return value


def _born_in_the_past(value: date) -> date:
    if not EARLIEST_BIRTH_DATE <= value < date.today():
        raise ValueError(f"must be a past date from {EARLIEST_BIRTH_DATE.isoformat()} on")
    return value


# A date of birth: in the past and not before 1900.
DateOfBirth = Annotated[
    date,
    BeforeValidator(_calendar_date_only),
    AfterValidator(_born_in_the_past),
    Field(description="A calendar date (YYYY-MM-DD) in the past, from 1900-01-01 on."),
]
