"""HTTP routes of the metrics service, wired in main.py."""

from services.metrics.api import analysis, flow, geography, observations, report

routers = [observations.router, analysis.router, flow.router, report.router, geography.router]
