"""What can be signed: each record type registers how to load its content and who may sign it.

The content is exactly what a signature covers. It is recomputed from the live record whenever a
signature is shown or re-verified, so any later change to the record shows the signature invalid.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from sqlmodel import Session, func, select

from app.canonical import canonical_json, sha256_hex
from app.models import AuditEvent, Meaning, Role, Signature, User
from app.services.core.clock import Clock
from app.services.core.errors import NotFound, Violation
from app.services.core.quantities import record_id as record_id_number

# The record's own rules for a signer and meaning (e.g. "the author cannot approve"), and what
# signing changes in the record (e.g. the second approval makes a revision effective). Both run
# inside the signing transaction.
Rules = Callable[[Session, User, Meaning, Clock], list[Violation]]
AfterSigning = Callable[[Session, Signature, Clock], None]

# Every record type that can be signed, and the module that registers its loader. Kept explicit
# so signing a record never depends on which page happened to import its module first.
PROVIDERS: dict[str, str] = {
    "esign_acknowledgement": "app.services.esign.signers",
    "sop": "app.services.masterdata.document_approval",
    "mbr_revision": "app.services.mbr.approval",
    "lot": "app.services.warehouse.disposition",
    "stock_adjustment": "app.services.warehouse.corrections",
    "step_execution": "app.services.execution.record",
    "cleaning": "app.services.masterdata.equipment",
}


@dataclass(frozen=True)
class Signable:
    record_type: str
    record_id: str
    title: str  # the words the signing dialog shows: what exactly is being signed
    content: Mapping[str, Any]
    # meaning -> roles that may sign with it (empty set: any active user)
    meanings: Mapping[Meaning, frozenset[Role]]
    batch_no: str | None = None
    rules: Rules | None = field(default=None, compare=False)
    after_signing: AfterSigning | None = field(default=None, compare=False)
    # Takes the record's row lock for this transaction, so two people deciding on one record at
    # the same moment are serialised: the second sees the first's decision and is refused.
    lock: Callable[[Session], object] | None = field(default=None, compare=False)
    # Signing changes what the record's page shows (its state, its next action): reload it.
    changes_page: bool = False
    # The governed state now (status, and the record's last audited change): signed with the
    # content and checked again at submit, but not part of `content_hash`, because a decision
    # is meant to move it on (re-verification compares the content only).
    state: Mapping[str, Any] = field(default_factory=dict)

    @property
    def content_hash(self) -> str:
        return sha256_hex(canonical_json(dict(self.content)))


Loader = Callable[[Session, str], Signable]
_loaders: dict[str, Loader] = {}


def register(record_type: str) -> Callable[[Loader], Loader]:
    if record_type not in PROVIDERS:
        raise ValueError(f"add {record_type!r} to signable.PROVIDERS")

    def decorate(loader: Loader) -> Loader:
        _loaders[record_type] = loader
        return loader

    return decorate


def load(session: Session, record_type: str, record_id: str) -> Signable:
    """The live content of a record. Raises NotFound for an unknown type or record."""
    provider = PROVIDERS.get(record_type)
    if provider is None:
        raise NotFound(f"Records of type {record_type!r} cannot be signed.")
    if record_id_number(record_id) is None:
        raise NotFound(f"There is no {record_type} {record_id[:40]!r}.")
    importlib.import_module(provider)
    loader = _loaders[record_type]
    loaded = loader(session, record_id.strip())
    last_change = session.exec(
        select(func.max(AuditEvent.id)).where(
            AuditEvent.entity_type == loaded.record_type,
            AuditEvent.entity_id == loaded.record_id,
        )
    ).one()
    # Any audited change in between (a hold and its lift: the same status again) shows.
    return replace(loaded, state={**loaded.state, "last_change": last_change})
