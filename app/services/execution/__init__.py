"""Batches on the floor: creation from the effective revision; steps, entries, weighing next."""
