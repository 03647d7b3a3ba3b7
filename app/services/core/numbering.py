"""Document numbers (lot codes, shipment numbers) from a counter per prefix, never by counting
rows: two people receiving or shipping at the same moment get two numbers, never one twice.

The counter row is created on first use (starting after what already exists under the prefix)
and incremented with one UPDATE, which holds the row's lock until the transaction ends; a
concurrent allocator of the same prefix waits for it and takes the next number.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session


def next_number(session: Session, prefix: str, *, taken: int = 0) -> int:
    """The next number under `prefix` (1, 2, ...), after `taken` numbers already in use there
    when the counter starts. Flushes; the caller's transaction commits it."""
    session.execute(
        text(
            "INSERT INTO number_sequence (prefix, last_value) VALUES (:prefix, :taken) "
            "ON CONFLICT (prefix) DO NOTHING"
        ),
        {"prefix": prefix, "taken": taken},
    )
    value = session.execute(
        text(
            "UPDATE number_sequence SET last_value = last_value + 1 WHERE prefix = :prefix "
            "RETURNING last_value"
        ),
        {"prefix": prefix},
    ).scalar_one()
    return int(value)
