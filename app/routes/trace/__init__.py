"""Pages of the trace area: genealogy and traceability exports (to come)."""
