"""The committee report from the demo data: HTML with charts, tables and people's numbers; PDF.

Rendering a PDF is slow (WeasyPrint), so one test renders one; the HTML checks do the rest.
"""

import os
import shutil
import subprocess
import warnings
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from deploy.local import demo_metrics
from services.metrics.config import Settings
from services.metrics.main import create_app
from services.metrics.models import ReferralFact, Target
from tests.harness import TokenMinter

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

pytestmark = pytest.mark.integration

# Far from the dates other tests give their referrals: events they publish on the shared broker
# reach this test's consumer too, and must not fall in the report's period.
PERIOD = {"from": "2019-01-07", "to": "2019-03-24"}
SURVEY_WITH_SAMPLES = (
    "indicator_code,area_code,period_start,period_end,period_label,value,numerator,denominator,"
    "sample_size\n"
    "feel_safe_day,MBRO,2020-09-01,2020-09-30,Wave 1 (Sep 2020),45.5,,,400\n"
    "feel_safe_day,MBRO,2021-10-01,2021-10-31,Wave 3 (Oct 2021),55.25,,,380\n"
)


def newport_facts() -> list[object]:
    """Newport in early 2019: 4 see-and-solve (3 within the day), 2 multi-agency, one overdue."""
    start = datetime(2019, 1, 7, 9, tzinfo=UTC)
    facts: list[object] = []
    for i in range(6):
        received = start + timedelta(days=7 * i)
        see_and_solve = i < 4
        facts.append(
            ReferralFact(
                referral_id=f"report-np-{i}",
                locality_code="NP",
                channel="phone" if i % 2 else "walk_in",
                received_at=received,
                track="see_and_solve" if see_and_solve else "multi_agency",
                triaged_at=received + timedelta(hours=1),
                resolved_at=received + timedelta(days=0.25 + i),
                resolution_days=0.25 + i,
                within_due=(i < 3) if see_and_solve else None,
                overdue_at=received + timedelta(days=3) if i == 5 else None,
            )
        )
    facts.append(
        Target(
            target_id="report-target-dark",
            version=1,
            plan_id="report-plan",
            indicator_code="feel_safe_dark",
            area_code="NP",
            baseline_value=9.68,
            baseline_period="Wave 1 (Sep 2020)",
            baseline_on=date(2020, 9, 30),
            target_value=60.0,
            target_date=date(2022, 3, 31),
            amber_tolerance=5.0,
            set_at=datetime(2020, 10, 1, tzinfo=UTC),
        )
    )
    return facts


def test_reports_show_charts_tables_referral_flow_and_render_as_pdf(
    metrics_settings: Settings, mint: TokenMinter
) -> None:
    headers = mint.headers("MIDDLESBROUGH-COUNCIL", "metrics:read metrics:write")
    app = create_app(metrics_settings)
    with TestClient(app, headers=headers) as client:
        demo_metrics.load(client)
        client.post(
            "/api/v1/observations/import",
            content=SURVEY_WITH_SAMPLES,
            headers={"Content-Type": "text/csv"},
        ).raise_for_status()

        async def store() -> None:
            async with app.state.runtime.sessions() as session, session.begin():
                session.add_all(newport_facts())

        client.portal.call(store)  # type: ignore[union-attr]
        page = client.get(
            "/api/v1/localities/NP/report", params=PERIOD, headers={"Accept": "text/html"}
        )
        authority = client.get(
            "/api/v1/authorities/MBRO/report", params={**PERIOD, "format": "pdf"}
        )
        unknown = client.get("/api/v1/localities/ZZ/report")

    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "Newport: locality performance report" in html
    assert "referral period 7 January 2019 to 24 March 2019" in html
    assert "resident surveys" in html and "police recorded incidents" in html
    # Feeling safe during the day, Wave 1 -> Wave 3, as the council's paper reads it.
    assert "Latest 68.7% (Wave 3 (Oct 2021)); baseline 31.2% (Wave 1 (Sep 2020))" in html
    charts = html.count('<svg class="chart"')  # 7 recorded indicators and the derived ones
    assert charts >= 7 and html.count('class="series"') == charts
    assert 'aria-label="Feeling safe during the day over time"' in html
    # The action plan's target on feeling safe after dark: trajectory, band and RAG.
    assert html.count('class="target"') == 1 and 'class="band-amber"' in html
    assert '<span class="rag rag-green">GREEN</span>' in html
    # The quarterly table in the papers' shape: ASB 523 in 2020/21 Q1.
    assert "<h3>By quarter</h3>" in html and "<th>2020/21 Q1</th>" in html
    assert "<td>523</td>" in html and "<h3>Resident survey, by wave</h3>" in html
    # Referral flow for the period.
    for label, value in [
        ("Referrals received", "6"),
        ("See and solve (share of triaged)", "66.7%"),
        ("Multi-agency (share of triaged)", "33.3%"),
        ("See and solve done within the day", "75.0%"),
        ("Went overdue", "1"),
        ("Median time to resolution", "2 days 18 hours"),
    ]:
        assert f'<th scope="row">{label}</th><td>{value}</td>' in html, label
    assert "<tr><td>walk in</td><td>3</td></tr>" in html
    assert "Feeling safe after dark rose, +36.1 points" in html  # what changed

    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("application/problem+json")

    if authority.status_code == 503 and os.environ.get("REQUIRE_WEASYPRINT") != "1":
        pytest.skip("WeasyPrint's Pango is missing (deploy/local/ensure-weasyprint.sh)")
    assert authority.status_code == 200, authority.text
    assert authority.headers["content-type"] == "application/pdf"
    assert authority.content.startswith(b"%PDF")
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", "-", "-"], input=authority.content, capture_output=True, check=True
        ).stdout.decode()
        assert "Middlesbrough" in text and "55.3%" in text


def test_authority_report_html_shows_survey_confidence_intervals_and_locality_flow(
    metrics_settings: Settings, mint: TokenMinter, tmp_path: Path
) -> None:
    headers = mint.headers("MIDDLESBROUGH-COUNCIL", "metrics:read metrics:write")
    app = create_app(metrics_settings)
    with TestClient(app, headers=headers) as client:
        demo_metrics.define_indicators(client, {})
        client.post(
            "/api/v1/observations/import",
            content=SURVEY_WITH_SAMPLES,
            headers={"Content-Type": "text/csv"},
        ).raise_for_status()
        page = client.get("/api/v1/authorities/MBRO/report", params=PERIOD)

    assert page.status_code == 200, page.text
    html = page.text
    assert "Middlesbrough: locality performance report" in html
    assert html.count('class="ci"') == 2  # one whisker per wave with a sample size
    assert "<h3>Referral flow by locality</h3>" in html
    assert "<td>North Ormesby</td>" in html and "<td>Newport</td>" in html
