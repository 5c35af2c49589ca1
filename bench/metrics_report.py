"""The committee report over 50 indicators x 10 years of monthly observations (issue 14: < 500 ms).

Subject: the locality report as the route makes it: read (build_report), view model (charts,
tables, what changed), HTML (Jinja2). Reported in three parts so a slow step is named. The PDF
(WeasyPrint) is measured once on its own: it grows with pages, not with the history.

    python -m bench.metrics_report          # SQLite
    BENCH_POSTGRES=1 python -m bench.metrics_report   # SQLite, then PostgreSQL
"""

import asyncio
import time
from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import async_sessionmaker

from bench._metrics_db import best_of, engines_to_run, metrics_database
from bench.metrics_scorecard import fill
from services.metrics.areas import load_areas
from services.metrics.report_render import render_html, render_pdf
from services.metrics.report_view import report_view
from services.metrics.service.flow import Period
from services.metrics.service.report import build_report
from shared.objectives import load_objectives

RUNS = 5
BUDGET_MS = 500
PERIOD = Period(date(2025, 1, 1), date(2025, 12, 31))


async def run(engine_name: str) -> None:
    async with metrics_database(engine_name) as engine:
        count = await fill(engine)
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        areas = load_areas()
        now = datetime.now(UTC)
        objectives = {o.code: o.title for o in load_objectives().values()}
        parts = {"read": 0.0, "view": 0.0, "html": 0.0}

        async def subject() -> str:
            started = time.perf_counter()
            async with sessions() as session:
                report = await build_report(
                    session, area_code="NP", kind="locality", areas=areas,
                    period=PERIOD, as_of=None, now=now,
                )  # fmt: skip
            read = time.perf_counter()
            view = report_view(report, objectives)
            viewed = time.perf_counter()
            html = render_html(view)
            done = time.perf_counter()
            parts.update(read=read - started, view=viewed - read, html=done - viewed)
            return html

        total_s, html = await best_of(RUNS, subject)
        started = time.perf_counter()
        pdf = render_pdf(html)
        pdf_s = time.perf_counter() - started
        verdict = "within" if total_s * 1000 <= BUDGET_MS else "OVER"
        print(
            f"[{engine_name}] {count} observations, report of {html.count('<svg')} charts: "
            f"{total_s * 1000:.0f} ms best of {RUNS} ({verdict} the {BUDGET_MS} ms budget; "
            f"last run read {parts['read'] * 1000:.0f}, view {parts['view'] * 1000:.0f}, "
            f"html {parts['html'] * 1000:.0f} ms); {len(html) // 1024} KiB HTML; "
            f"PDF once {pdf_s * 1000:.0f} ms, {len(pdf) // 1024} KiB"
        )


async def main() -> None:
    for engine_name in engines_to_run():
        await run(engine_name)


if __name__ == "__main__":
    asyncio.run(main())
