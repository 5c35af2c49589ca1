"""Event payload contracts, one module per producing service, versioned and additive.

Producers build these payloads; consumers parse them and ignore fields they do not know.
Payloads carry ids, codes, localities and timestamps: never names, addresses, contacts or free text.
"""

import re
from datetime import date

from pydantic import BaseModel, ConfigDict


class EventPayload(BaseModel):
    """Base of every payload: unknown fields are ignored so producers can add fields."""

    model_config = ConfigDict(extra="ignore", frozen=True)


# Period labels that are codes already, as the service generates them: "2021", "2021-10",
# "2021-Q3", "2020/21", "2020/21 Q1", "Wave Sep 2020". Anything else a person typed (an
# imported label such as "Wave 3 (Oct 2021)") stays off the wire.
PERIOD_CODE = re.compile(
    r"^(\d{4}(/\d{2})?((-| )(Q[1-4]|H[12]|W\d{2})|-\d{2})?"
    r"|Wave (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4})$"
)


def period_code(label: str, period_start: date | None, period_end: date | None = None) -> str:
    """A period for events: the label when it is a code, else its ISO 8601 date or interval.

    Events carry ids and codes, never free text: a label such as "Wave 3 (Oct 2021)" is
    whatever a person typed, so the event says "2021-10-01/2021-10-31" instead ("" when no
    date is known).
    """
    if PERIOD_CODE.fullmatch(label.strip()):
        return label.strip()
    if period_start is None:
        return ""
    if period_end is None or period_end == period_start:
        return period_start.isoformat()
    return f"{period_start.isoformat()}/{period_end.isoformat()}"
