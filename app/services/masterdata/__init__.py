"""Master data: materials, parties, equipment, documents, training."""
