"""HTTP routes of the actionplans service."""

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["action plans"])
