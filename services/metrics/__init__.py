"""Metrics: Performance Management Framework indicators, observations and derived indicators."""
