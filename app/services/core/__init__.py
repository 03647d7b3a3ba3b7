"""What every area uses: the clock, the audit trail, errors and gate results, actors,
idempotency, quantities, GS1 scan parsing."""
