"""Pages of the masterdata area: materials, parties, equipment, documents, training."""
