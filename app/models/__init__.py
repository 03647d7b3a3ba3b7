"""SQLModel tables: data and constraints only. Importing this package registers every table."""

from __future__ import annotations

from app.models.audit import AuditEvent
from app.models.base import metadata
from app.models.batch import Batch, BatchMaterial, BatchStatus, ExcessIssueApproval
from app.models.document import Document, DocumentRevision
from app.models.equipment import CalibrationEvent, CleaningEvent, Equipment, EquipmentKind
from app.models.esign import (
    Alert,
    Ceremony,
    Device,
    EnrolmentLink,
    IdentityCheck,
    Meaning,
    Passkey,
    Signature,
    SignMethod,
    WebAuthnChallenge,
)
from app.models.execution import EntryKind, EntrySource, StepEntry, StepExecution, StepState
from app.models.inventory import (
    AdjustmentStatus,
    DespatchAdvice,
    InventoryMovement,
    Lot,
    LotCorrection,
    LotStatus,
    MovementKind,
    NumberSequence,
    Shipment,
    ShipmentLine,
    ShipmentStatus,
    StockAdjustment,
    Submission,
)
from app.models.material import Material, MaterialKind, MaterialSupplier, Tracking
from app.models.party import Party, PartyKind
from app.models.quality import (
    Certificate,
    LotSample,
    QcResult,
    ResultSource,
    SpecKind,
    SpecTest,
)
from app.models.recipe import (
    BomLine,
    Recipe,
    RecipeRevision,
    RecipeStep,
    RevisionStatus,
    StepKind,
    StepLimit,
    ToleranceKind,
)
from app.models.training import Curriculum, TrainingRecord
from app.models.user import Role, User, WebSession

__all__ = [
    "AdjustmentStatus",
    "LotCorrection",
    "StockAdjustment",
    "Certificate",
    "LotSample",
    "ResultSource",
    "SpecTest",
    "SpecKind",
    "QcResult",
    "Alert",
    "AuditEvent",
    "Batch",
    "BatchMaterial",
    "BatchStatus",
    "BomLine",
    "CalibrationEvent",
    "Ceremony",
    "CleaningEvent",
    "Curriculum",
    "DespatchAdvice",
    "Device",
    "Document",
    "DocumentRevision",
    "EnrolmentLink",
    "Equipment",
    "EquipmentKind",
    "ExcessIssueApproval",
    "EntryKind",
    "EntrySource",
    "StepEntry",
    "StepExecution",
    "StepState",
    "IdentityCheck",
    "InventoryMovement",
    "Lot",
    "LotStatus",
    "Material",
    "MaterialKind",
    "MaterialSupplier",
    "Meaning",
    "MovementKind",
    "Party",
    "PartyKind",
    "Passkey",
    "Recipe",
    "RecipeRevision",
    "RecipeStep",
    "RevisionStatus",
    "Role",
    "Shipment",
    "ShipmentLine",
    "ShipmentStatus",
    "SignMethod",
    "Signature",
    "StepKind",
    "StepLimit",
    "NumberSequence",
    "Submission",
    "ToleranceKind",
    "Tracking",
    "TrainingRecord",
    "User",
    "WebSession",
    "WebAuthnChallenge",
    "metadata",
]
