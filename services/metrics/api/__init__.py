"""HTTP routes of the metrics service, wired in main.py."""

from services.metrics.api import analysis, observations

routers = [observations.router, analysis.router]
