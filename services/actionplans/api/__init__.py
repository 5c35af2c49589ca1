"""HTTP routes of the actionplans service, one module per concept."""

from fastapi import APIRouter

from services.actionplans.api import actions, plans, reviews, targets

router = APIRouter()
for module in (plans, targets, actions, reviews):
    router.include_router(module.router)

__all__ = ["router"]
