"""Signed checkpoints of the audit chain's head, kept outside the database (Part 11 §11.10(e)).

The hash chain shows an edited row, but not a chain cut short at its end, nor one rewritten
and recomputed from the edit onwards by someone holding the database. A checkpoint (the head's
event id and hash, signed with a key that lives outside the database) does: `verify` names a
truncation or a recomputed chain. Checkpoints are appended to a JSON-lines file beside the key,
in a folder the plant chooses (ideally on another machine's share or write-once storage);
the app writes one regularly after a commit, `batchbook audit checkpoint` on demand.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlmodel import Session, col, func, select

from app.canonical import canonical_json
from app.models import AuditEvent
from app.services.core.clock import Clock

KEY_FILE = "checkpoint-key.pem"
LOG_FILE = "checkpoints.jsonl"


@dataclass(frozen=True)
class Checkpoint:
    event_id: int  # the chain head: the highest event id
    row_hash: str
    events: int  # how many events the chain held
    written_at: str  # ISO time of writing (the server's clock)
    key_id: str
    signature: str = ""

    def signed_part(self) -> bytes:
        return canonical_json(
            {
                "event_id": self.event_id,
                "row_hash": self.row_hash,
                "events": self.events,
                "written_at": self.written_at,
                "key_id": self.key_id,
            }
        ).encode()


class CheckpointStore:
    """The folder holding the signing key and the checkpoint log."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _key(self) -> Ed25519PrivateKey:
        path = self.folder / KEY_FILE
        if not path.exists():
            self.folder.mkdir(parents=True, exist_ok=True)
            key = Ed25519PrivateKey.generate()
            pem = key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            # Created readable by the server's account only, never rewritten afterwards.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(pem)
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(loaded, Ed25519PrivateKey):
            raise ValueError(f"{path} does not hold an Ed25519 key.")
        return loaded

    def _public(self) -> Ed25519PublicKey:
        return self._key().public_key()

    def key_id(self) -> str:
        raw = self._public().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return hashlib.sha256(raw).hexdigest()[:16]

    def write(self, session: Session, *, clock: Clock) -> Checkpoint | None:
        """Sign the chain's current head and append it to the log (None: the trail is empty)."""
        head = session.exec(
            select(AuditEvent.id, AuditEvent.row_hash).order_by(col(AuditEvent.id).desc()).limit(1)
        ).first()
        if head is None:
            return None
        events = session.exec(select(func.count()).select_from(AuditEvent)).one()
        unsigned = Checkpoint(
            event_id=head[0] or 0,
            row_hash=head[1],
            events=int(events),
            written_at=clock.now().isoformat(),
            key_id=self.key_id(),
        )
        signed = Checkpoint(
            **{**unsigned.__dict__, "signature": self._key().sign(unsigned.signed_part()).hex()}
        )
        self.folder.mkdir(parents=True, exist_ok=True)
        with (self.folder / LOG_FILE).open("a", encoding="utf-8") as log:
            log.write(json.dumps(signed.__dict__, sort_keys=True) + "\n")
        return signed

    def read(self) -> tuple[list[Checkpoint], list[str]]:
        """Every checkpoint in the log, and a sentence for each line that is not genuine."""
        path = self.folder / LOG_FILE
        if not path.exists():
            return [], []
        public, found, problems = self._public(), [], []
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            try:
                checkpoint = Checkpoint(**json.loads(line))
                public.verify(bytes.fromhex(checkpoint.signature), checkpoint.signed_part())
            except (ValueError, TypeError, InvalidSignature):
                problems.append(
                    f"checkpoint line {number} of {path} is not signed by this plant's "
                    "checkpoint key (edited, or written by another key)"
                )
                continue
            found.append(checkpoint)
        return found, problems


def check_chain(session: Session, store: CheckpointStore) -> list[str]:
    """What the signed checkpoints say about the trail as it is now: each problem a sentence.
    (The hash chain itself is checked by `audit.verify_chain`.)"""
    checkpoints, problems = store.read()
    if not checkpoints:
        return problems
    wanted = {c.event_id for c in checkpoints}
    present = dict(
        session.exec(
            select(AuditEvent.id, AuditEvent.row_hash).where(col(AuditEvent.id).in_(wanted))
        ).all()
    )
    last_id = session.exec(select(func.max(AuditEvent.id))).one() or 0
    for checkpoint in sorted(checkpoints, key=lambda c: c.event_id):
        when = checkpoint.written_at
        if checkpoint.event_id not in present:
            problems.append(
                f"events were removed: the checkpoint signed at {when} vouches for event "
                f"#{checkpoint.event_id} ({checkpoint.events} events), but the trail "
                + (f"ends at #{last_id}" if last_id < checkpoint.event_id else "lacks it")
            )
        elif present[checkpoint.event_id] != checkpoint.row_hash:
            problems.append(
                f"the chain was rewritten and recomputed: event #{checkpoint.event_id}'s hash "
                f"is not the one the checkpoint signed at {when} holds"
            )
    return problems


def is_due(last_written: datetime | None, *, every: timedelta, clock: Clock) -> bool:
    return last_written is None or clock.now() - last_written >= every
