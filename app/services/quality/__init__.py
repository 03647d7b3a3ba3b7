"""Deviations, NCRs, batch review and release (to come)."""
