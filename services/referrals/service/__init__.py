"""Use cases of the referrals service: one async function and one transaction each.

By concept: `intake` (new referrals, idempotency, repeat demand, suggestion), `casework`
(triage and the lifecycle), `partners` (tasks, notes, sharing), `reading` (reads, lists,
the audit log) and `overdue` (clocks past due). `access` holds what they all check first.
"""
