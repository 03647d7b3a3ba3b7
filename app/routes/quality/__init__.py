"""Pages of the quality area: deviations, NCRs, review and release (to come)."""
