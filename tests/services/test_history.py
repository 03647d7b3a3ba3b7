"""Histories in sentences over a real trail (issue 12 point 12): every event the demo plant
writes (people, master data, recipes, documents, lots, QC signatures, batches) reads as its own
sentence with the actor's full name, not as the fallback made from the action's name."""

from __future__ import annotations

from sqlmodel import Session, col, select

from app.models import AuditEvent, User
from app.services.core import history
from app.services.demo import seed_demo
from tests.clock import CLOCK
from tests.conftest import SYSTEM


def test_every_event_of_the_demo_plant_reads_as_its_own_sentence(session: Session) -> None:
    seed_demo(session, actor=SYSTEM, clock=CLOCK)
    events = list(session.exec(select(AuditEvent).order_by(col(AuditEvent.id))))
    names = history.actor_names(session, events)

    unread = sorted({e.action for e in events if history.sentence_of(e, names=names) is None})

    assert unread == []
    assert len({e.action for e in events}) > 20  # the demo exercises much of the table
    told = history.tell(session, events)
    assert [t.event for t in told] == events
    assert not any(t.event.action in t.sentence for t in told)


def test_a_signature_reads_with_its_meaning_and_the_signers_name(session: Session) -> None:
    seed_demo(session, actor=SYSTEM, clock=CLOCK)
    signed = session.exec(
        select(AuditEvent).where(AuditEvent.action == "signature.created").limit(1)
    ).one()
    signer = session.get(User, signed.actor_id)
    assert signer is not None

    sentence = history.tell(session, [signed])[0].sentence

    assert sentence.startswith(f"{sentence.split(' by ')[0]} by {signer.full_name} — ")
    assert sentence.endswith(" signature")
