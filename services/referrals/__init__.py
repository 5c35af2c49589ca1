"""Referrals: the single point of contact for residents and professionals."""
