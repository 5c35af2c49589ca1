"""HTTP routes of the referrals service, one module per resource."""

from services.referrals.api import audit, casework, partners, referrals, webhooks

routers = [referrals.router, casework.router, partners.router, audit.router, webhooks.router]
