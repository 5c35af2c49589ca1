"""Request and response models of the metrics API."""

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.metrics.domain import INDICATOR_CODE, Direction, Frequency, Source, Unit
from shared.input_rules import PlainTextModel

CODE_PATTERN = INDICATOR_CODE.pattern
AREA_CODE_PATTERN = r"^[A-Z][A-Z0-9]{1,31}$"


class IndicatorCreate(PlainTextModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=CODE_PATTERN, description="snake_case, e.g. feel_safe_day")
    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=4000)
    unit: Unit
    desired_direction: Direction
    frequency: Frequency
    source: Source
    numerator_label: str | None = Field(None, max_length=200)
    denominator_label: str | None = Field(None, max_length=200)
    target_value: float | None = Field(None, description="the indicator's own target")
    amber_tolerance: float | None = Field(None, ge=0, description="shortfall still amber")
    no_change_tolerance: float = Field(0.05, ge=0, le=1, description="relative change ignored")

    @model_validator(mode="after")
    def _rates_name_their_parts(self) -> "IndicatorCreate":
        if self.unit is Unit.RATE_PER_1000 and not (
            self.numerator_label and self.denominator_label
        ):
            raise ValueError("a rate needs numerator_label and denominator_label")
        if self.source is Source.DERIVED:
            raise ValueError("derived indicators are defined by the service, not created")
        return self


class IndicatorUpdate(PlainTextModel):
    """Fields that may change; the code, unit, frequency and source of an indicator are fixed."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=4000)
    desired_direction: Direction | None = None
    numerator_label: str | None = Field(None, max_length=200)
    denominator_label: str | None = Field(None, max_length=200)
    target_value: float | None = None
    amber_tolerance: float | None = Field(None, ge=0)
    no_change_tolerance: float | None = Field(None, ge=0, le=1)


class IndicatorOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    description: str
    unit: Unit
    desired_direction: Direction
    frequency: Frequency
    source: Source
    numerator_label: str | None
    denominator_label: str | None
    target_value: float | None
    amber_tolerance: float | None
    no_change_tolerance: float
    created_at: datetime
    updated_at: datetime


class IndicatorPage(BaseModel):
    items: list[IndicatorOut]
    next_cursor: str | None = None


class ObservationCreate(PlainTextModel):
    model_config = ConfigDict(extra="forbid")

    indicator_code: str = Field(pattern=CODE_PATTERN)
    area_code: str = Field(pattern=AREA_CODE_PATTERN)
    period_start: date
    period_end: date
    period_label: str | None = Field(None, max_length=64)
    value: float
    numerator: float | None = None
    denominator: float | None = None
    sample_size: int | None = None


class ObservationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    indicator_code: str
    area_code: str
    period_start: date
    period_end: date
    period_label: str
    value: float
    numerator: float | None
    denominator: float | None
    sample_size: int | None
    revision: int
    recorded_at: datetime
    superseded_at: datetime | None


class ObservationPage(BaseModel):
    items: list[ObservationOut]
    next_cursor: str | None = None


class RowError(BaseModel):
    line: int
    field: str
    reason: str


class ImportReport(BaseModel):
    dry_run: bool
    rows: int
    created: int
    revised: int
    unchanged: int
    errors: list[RowError] = []


class AreaOut(BaseModel):
    code: str
    name: str
    kind: str
    gss_code: str | None
    authority_code: str | None
    ward_gss_codes: list[str]
    lsoa_gss_codes: list[str]
    comparison_area_codes: list[str]


class AreaList(BaseModel):
    items: list[AreaOut]


class TargetOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    target_id: str
    version: int
    plan_id: str
    indicator_code: str
    area_code: str
    baseline_value: float
    baseline_period: str
    target_value: float
    target_date: date
    amber_tolerance: float
    set_at: datetime


class TargetList(BaseModel):
    items: list[TargetOut]


class ReferralCount(BaseModel):
    locality_code: str
    referrals_received: int
    period_start: date | None = None
    period_label: str | None = None


class ReferralCounts(BaseModel):
    items: list[ReferralCount]


class PartOut(BaseModel):
    gss_code: str
    name: str | None
    source: str  # "configuration" | "ons_lookup"
    ward_gss_code: str | None = None


class LocalityAreasOut(BaseModel):
    locality_code: str
    name: str
    authority_code: str | None
    wards: list[PartOut]
    lsoas: list[PartOut]


class RolledUpOut(BaseModel):
    period_start: str
    period_end: str
    period_label: str
    value: float
    level: str
    parts: int
    of: int


class RollUpOut(BaseModel):
    locality_code: str
    indicator_code: str
    items: list[RolledUpOut]
