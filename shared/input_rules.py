"""Input rules every service applies the same way: organisation codes, text without control
characters, dates of birth. A request model refuses what breaks them with a 422 naming the field.
"""

import re
from datetime import date
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, field_validator

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
    """A request model whose text fields refuse control characters (tab and newline are fine)."""

    @field_validator("*", mode="after", check_fields=False)
    @classmethod
    def _refuse_control_characters(cls, value: Any) -> Any:
        return refuse_control_characters(value)


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
