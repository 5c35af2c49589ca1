"""The committee report checked as a person would read it: the Newport and North Ormesby reports
from the demo data opened in a real headless Chromium (its rendered page and a screenshot), and
the PDF turned into page images and text with poppler (`pdftoppm`, `pdftotext`).

The figures are the seed papers' (`deploy/local/demo_metrics_seed.csv`, from the Middlesbrough
papers in the seeds): feeling safe during the day in Newport 31.18% (Sep 2020) -> 68.65% (Oct
2021) reads 31.2% -> 68.7%. SQLite only: the database is not what is under test here.

The demo's "People feel safe" action plan (deploy/local/demo_actionplans.py) reaches the service
as the events actionplans announces for it (created with its targets in October 2020, reviewed
on 20 November 2021), applied through the consumer's handlers, so the plans section has content.

`REPORT_SCREENSHOTS_DIR=docs` also writes the screenshots there (docs/report-newport.png and
docs/report-north-ormesby.png are made that way).
"""

import csv
import os
import re
import shutil
import subprocess
import warnings
from dataclasses import dataclass
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image, ImageStat

from deploy.local import demo_actionplans, demo_metrics
from services.metrics.config import Settings
from services.metrics.main import create_app
from services.metrics.service.consumed import HANDLERS
from shared.clock import set_clock
from shared.contracts import actionplans as plans
from shared.events import EventEnvelope, new_event
from shared.rag import Trajectory
from tests import harness
from tests.harness import TokenMinter

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = pytest.mark.integration

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
POPPLER = all(shutil.which(tool) for tool in ("pdfinfo", "pdftoppm", "pdftotext"))
WINDOW = (1200, 3000)
# The report as a committee would have read it after the October 2021 wave and the Q3 2021/22
# figures. The referral period is one with no referrals on any test's broker topics (other
# tests' events reach this service's consumer), so the page is the same on every run.
AS_AT = datetime(2022, 1, 31, 12, tzinfo=UTC)
PERIOD = {"from": "2022-01-01", "to": "2022-01-31"}
LOCALITIES = {"NP": "newport", "NO": "north-ormesby"}

PLAN_HEADING = "People feel safe; Improve perception of community cohesion, led by CLEVELAND-POLICE"
PLAN_CREATED_AT = datetime(2020, 10, 1, 9, tzinfo=UTC)
REVIEWED_ON = date(2021, 11, 20)


def latest_seed_value(indicator: str, locality: str, by: date) -> tuple[float, date]:
    """The indicator's last seed figure for the locality whose period ended by `by`."""
    with demo_metrics.SEED_FILE.open(newline="") as seed:
        rows = [
            (date.fromisoformat(row["period_end"]), float(row["value"]))
            for row in csv.DictReader(seed)
            if (row["indicator_code"], row["area_code"]) == (indicator, locality)
        ]
    ended, value = max(row for row in rows if row[0] <= by)
    return value, ended


def demo_plan_events(locality: str) -> list[EventEnvelope]:
    """The demo's first plan as actionplans announces it: created with its targets, then
    reviewed with each target frozen as the shared RAG rule rated its latest figure then."""
    spec = demo_actionplans.PLANS[0]
    plan_id = f"demo-plan-{locality}"
    base = {
        "plan_id": plan_id,
        "locality_code": locality,
        "organisation": spec["lead_organisation"],
    }
    created = plans.PlanCreatedV1(
        **base,
        objective_codes=spec["objective_codes"],
        lead_organisation=spec["lead_organisation"],
        status="active",
        created_at=PLAN_CREATED_AT,
    )
    found = [new_event(plans.SOURCE, plans.PLAN_CREATED_V1, plan_id, created)]
    frozen = []
    for indicator in spec["indicators"]:
        body = demo_actionplans.target_request(locality, indicator)
        target = plans.TargetSetV1(
            **base,
            target_id=f"{plan_id}-{indicator}",
            version=1,
            indicator_code=indicator,
            area_code=locality,
            baseline_value=body["baseline_value"],
            baseline_period=body["baseline_on"][:7],
            baseline_on=date.fromisoformat(body["baseline_on"]),
            target_value=body["target_value"],
            target_date=date.fromisoformat(body["target_date"]),
            amber_tolerance=body["amber_tolerance"],
            set_at=PLAN_CREATED_AT,
        )
        found.append(new_event(plans.SOURCE, plans.TARGET_SET_V1, target.target_id, target))
        value, ended = latest_seed_value(indicator, locality, REVIEWED_ON)
        line = Trajectory(
            body["desired_direction"],
            target.baseline_value,
            target.target_value,
            date.fromisoformat(body["baseline_on"]),
            target.target_date,
            target.amber_tolerance,
        )
        frozen.append(
            plans.ReviewedTargetV1(
                target_id=target.target_id,
                target_version=1,
                indicator_code=indicator,
                area_code=locality,
                value=value,
                target_value=target.target_value,
                rag=line.rag(value, ended).value,
            )
        )
    reviewed = plans.PlanReviewedV1(
        **base,
        review_id=f"{plan_id}-review",
        reviewed_on=REVIEWED_ON,
        red_targets=sum(t.rag == "red" for t in frozen),
        amber_targets=sum(t.rag == "amber" for t in frozen),
        green_targets=sum(t.rag == "green" for t in frozen),
        escalated=False,
        targets=frozen,
    )
    found.append(new_event(plans.SOURCE, plans.PLAN_REVIEWED_V1, plan_id, reviewed))
    return found


needs_chromium = pytest.mark.skipif(
    CHROMIUM is None and os.environ.get("REQUIRE_CHROMIUM") != "1",
    reason="chromium is not installed (deploy/local/ensure-chromium.sh installs it)",
)
needs_poppler = pytest.mark.skipif(
    not POPPLER and os.environ.get("REQUIRE_POPPLER") != "1",
    reason="poppler-utils is not installed (deploy/local/ensure-poppler.sh installs it)",
)


@dataclass(frozen=True)
class Reports:
    html: dict[str, str]  # locality code -> the page
    pdf: bytes | None  # Newport's; None when WeasyPrint cannot load Pango (503)


@pytest.fixture(scope="module")
def reports(
    tmp_path_factory: pytest.TempPathFactory, kafka: str, public_key: Path, mint: TokenMinter
) -> Reports:
    """The demo metrics loaded into a fresh metrics service, and the two reports rendered."""
    data_dir = tmp_path_factory.mktemp("report-as-seen")
    settings = Settings(
        **harness.test_settings_values(
            data_dir, f"sqlite+aiosqlite:///{data_dir / 'metrics.sqlite3'}", kafka, public_key
        ),
        consumer_group=f"metrics-{data_dir.name}",
    )
    app = create_app(settings)
    set_clock(app, lambda: AS_AT)
    headers = mint.headers("MIDDLESBROUGH-COUNCIL", "metrics:read metrics:write")
    with TestClient(app, headers=headers) as client:
        demo_metrics.load(client)

        async def apply_plan_events() -> None:
            for code in LOCALITIES:
                for envelope in demo_plan_events(code):
                    async with app.state.runtime.sessions() as session, session.begin():
                        await HANDLERS[envelope.type](session, envelope)

        client.portal.call(apply_plan_events)  # type: ignore[union-attr]
        pages = {}
        for code in LOCALITIES:
            page = client.get(f"/api/v1/localities/{code}/report", params=PERIOD)
            assert page.status_code == 200, page.text
            pages[code] = page.text
        pdf = client.get("/api/v1/localities/NP/report", params={**PERIOD, "format": "pdf"})
    assert pdf.status_code in {200, 503}, pdf.text
    return Reports(html=pages, pdf=pdf.content if pdf.status_code == 200 else None)


@dataclass(frozen=True)
class Seen:
    text: str  # the rendered page's text, whitespace collapsed
    screenshot: Path


# Run in the page before its DOM is dumped: the chart labels Chromium laid out on top of one
# another, as "a|b" pairs, in an element of the page (what a reader would see smudged).
MEASURE_OVERLAPS = """<script>
const overlaps = [];
for (const chart of document.querySelectorAll("svg.chart")) {
  const boxes = [...chart.querySelectorAll("text")]
    .map(t => [t.textContent, t.getBoundingClientRect()]);
  boxes.forEach(([a, p], i) => boxes.slice(i + 1).forEach(([b, q]) => {
    const apart = p.right <= q.left || q.right <= p.left || p.bottom <= q.top || q.bottom <= p.top;
    if (!apart) overlaps.push(a + "|" + b);
  }));
}
const found = document.createElement("output");
found.id = "overlapping-labels";
found.textContent = "overlaps[" + overlaps.join(";") + "]";
document.body.append(found);
</script>"""


def open_in_chromium(html: str, folder: Path) -> Seen:
    """The page as headless Chromium renders it: its DOM after layout, and a screenshot."""
    assert CHROMIUM is not None, "REQUIRE_CHROMIUM=1 but chromium is not installed"
    folder.mkdir(parents=True, exist_ok=True)
    page = folder / "report.html"
    page.write_text(html, encoding="utf-8")
    screenshot = folder / "report.png"
    # Two runs: Chromium does one of --dump-dom and --screenshot per start.
    measured = folder / "measured.html"
    measured.write_text(html.replace("</body>", MEASURE_OVERLAPS + "</body>"), encoding="utf-8")
    dom = _chromium(folder, "--dump-dom", measured.as_uri())
    _chromium(folder, f"--screenshot={screenshot}", page.as_uri())
    return Seen(text=visible_text(dom), screenshot=screenshot)


def _chromium(folder: Path, *arguments: str) -> str:
    assert CHROMIUM is not None
    browser = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            f"--window-size={WINDOW[0]},{WINDOW[1]}",
            f"--user-data-dir={folder / 'chromium-profile'}",
            *arguments,
        ],
        capture_output=True,
        # Generous: a loaded machine starts Chromium slowly; the deadline only stops a hang.
        timeout=120,
    )
    assert browser.returncode == 0, browser.stderr.decode()[-2000:]
    return browser.stdout.decode()


class _TextOfPage(HTMLParser):
    """The text a reader sees: everything but style, script and the SVG's markup names."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"style", "script", "head"}:
            self._hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in {"style", "script", "head"}:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def visible_text(dom: str) -> str:
    parser = _TextOfPage()
    parser.feed(dom)
    return re.sub(r"\s+", " ", " ".join(parser.parts))


def assert_a_real_screenshot(path: Path) -> None:
    """A PNG of the window's size with content on it, not a blank or error page."""
    assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert path.stat().st_size > 30_000, path.stat().st_size
    with Image.open(path) as image:
        assert image.size == WINDOW
        grey = image.convert("L")
        assert len(grey.getcolors(maxcolors=256 * 256) or range(257)) > 16  # text, lines, fills
        assert ImageStat.Stat(grey).stddev[0] > 10


def keep_screenshot(path: Path, code: str) -> None:
    """With REPORT_SCREENSHOTS_DIR set, keep a copy as report-<locality>.png (for docs/)."""
    target = os.environ.get("REPORT_SCREENSHOTS_DIR")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, Path(target) / f"report-{LOCALITIES[code]}.png")


@needs_chromium
def test_newport_report_in_chromium_shows_feeling_safe_rising_and_the_asb_quarters(
    reports: Reports, tmp_path: Path
) -> None:
    seen = open_in_chromium(reports.html["NP"], tmp_path)
    assert "Newport: locality performance report" in seen.text
    assert "As at 31 January 2022 12:00 UTC" in seen.text
    # Feeling safe during the day 31.18% -> 68.65% and after dark 9.68% -> 48.98% (seed 002).
    assert "Latest 68.7% (Wave 3 (Oct 2021)); baseline 31.2% (Wave 1 (Sep 2020))" in seen.text
    assert "Latest 49.0% (Wave 3 (Oct 2021)); baseline 9.7% (Wave 1 (Sep 2020))" in seen.text
    # Anti-social behaviour incidents, 523 in Q1 2020/21 down to 172 in Q3 2021/22.
    assert "Latest 172 (2021/22 Q3); baseline 523 (2020/21 Q1)" in seen.text
    # The demo's plan: objectives and lead, its review, each target's RAG then and now.
    assert PLAN_HEADING in seen.text
    assert "Lead CLEVELAND-POLICE · status active · last reviewed 20 November 2021" in seen.text
    assert (
        "Feeling safe during the day 31.2% 60.0% 31 March 2022 68.7% GREEN "
        "68.7% (Wave 3 (Oct 2021)) GREEN"
    ) in seen.text
    assert "overlaps[]" in seen.text  # every chart's labels stand clear of each other
    assert_a_real_screenshot(seen.screenshot)
    keep_screenshot(seen.screenshot, "NP")


@needs_chromium
def test_north_ormesby_report_in_chromium_shows_its_own_survey_and_crime_figures(
    reports: Reports, tmp_path: Path
) -> None:
    seen = open_in_chromium(reports.html["NO"], tmp_path)
    assert "North Ormesby: locality performance report" in seen.text
    # Feeling safe during the day 32.61% -> 77.14% and after dark 13.04% -> 31.42% (seed 002).
    assert "Latest 77.1% (Wave 3 (Oct 2021)); baseline 32.6% (Wave 1 (Sep 2020))" in seen.text
    assert "Latest 31.4% (Wave 3 (Oct 2021)); baseline 13.0% (Wave 1 (Sep 2020))" in seen.text
    # Anti-social behaviour incidents, 157 in Q1 2020/21 down to 64 in Q3 2021/22.
    assert "Latest 64 (2021/22 Q3); baseline 157 (2020/21 Q1)" in seen.text
    # Crime and ASB a big problem, 72.72% -> 74.12%: a latest rise shown, not hidden.
    assert "since previous +1.4 points, not significant" in seen.text
    assert PLAN_HEADING in seen.text
    assert (
        "Feeling safe during the day 32.6% 60.0% 31 March 2022 77.1% GREEN "
        "77.1% (Wave 3 (Oct 2021)) GREEN"
    ) in seen.text
    assert "Newport" not in seen.text  # nothing of the other locality
    assert "overlaps[]" in seen.text
    assert_a_real_screenshot(seen.screenshot)
    keep_screenshot(seen.screenshot, "NO")


@needs_poppler
def test_newport_pdf_becomes_page_images_and_reads_with_its_figures(
    reports: Reports, tmp_path: Path
) -> None:
    assert POPPLER, "REQUIRE_POPPLER=1 but poppler-utils is not installed"
    if reports.pdf is None and os.environ.get("REQUIRE_WEASYPRINT") != "1":
        pytest.skip("WeasyPrint's Pango is missing (deploy/local/ensure-weasyprint.sh)")
    assert reports.pdf is not None, "REQUIRE_WEASYPRINT=1 but the PDF answered 503"
    pdf = tmp_path / "report-NP.pdf"
    pdf.write_bytes(reports.pdf)
    info = poppler("pdfinfo", pdf)
    pages_line = re.search(r"^Pages:\s+(\d+)$", info, re.MULTILINE)
    assert pages_line, info
    page_count = int(pages_line[1])
    poppler("pdftoppm", "-png", "-r", "40", pdf, tmp_path / "page")
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == page_count >= 1
    with Image.open(pages[0]) as first:
        assert first.width > 300 and first.height > 300  # A4 at 40 dpi is 331 x 468
        assert ImageStat.Stat(first.convert("L")).stddev[0] > 10  # printed, not blank
    text = re.sub(r"\s+", " ", poppler("pdftotext", pdf, "-"))
    assert "Newport: locality performance report" in text
    assert "Latest 68.7% (Wave 3 (Oct 2021)); baseline 31.2%" in text
    assert "523" in text and "172" in text  # ASB, Q1 2020/21 and Q3 2021/22
    assert "Action plans" in text
    assert "Lead CLEVELAND-POLICE · status active · last reviewed 20 November 2021" in text
    assert "Feeling safe during the day 31.2% 60.0% 31 March 2022 68.7% GREEN" in text


def poppler(*command: str | Path) -> str:
    """Run one poppler tool and return what it printed."""
    done = subprocess.run(command, capture_output=True, check=True, timeout=120)
    return done.stdout.decode()
