"""Demo QC: the raw materials' specifications, their qualified suppliers, and each demo lot's
evidence (sample, tests, the supplier's certificate) recorded by the people who would record it:
Walter attaches the certificate that came with the delivery; Quinn samples, tests and releases.
"""

from __future__ import annotations

from sqlmodel import Session

from app.models import Lot, Material, User
from app.services.core.clock import Clock
from app.services.demo.signing import DemoSigning
from app.services.masterdata import materials
from app.services.quality import qc, specifications
from app.services.quality.specifications import SpecTestIn

IDENTITY = SpecTestIn("Identity", "FTIR", "expected", expected="conforms", identity=True)
SPECIFICATIONS = {
    # Ascorbic acid is the dietary ingredient: its identity is always tested here.
    "RM-ASC": (IDENTITY, SpecTestIn("Assay", "HPLC", "range", low="99.0", high="100.5", unit="%",
                                    coa_allowed=True)),
    "RM-MCC": (IDENTITY, SpecTestIn("Loss on drying", "USP <731>", "range", high="7.0", unit="%",
                                    coa_allowed=True)),
    "RM-MGS": (IDENTITY, SpecTestIn("Loss on drying", "USP <731>", "range", high="6.0", unit="%",
                                    coa_allowed=True)),
    # Finished tablets: tested here before QA releases the batch's output.
    "VC500": (SpecTestIn("Assay", "HPLC", "range", low="95.0", high="105.0",
                         unit="% of claim"),),
}  # fmt: skip
# Suppliers whose certificates QA accepts in place of the tests that allow it.
QUALIFIED = {
    "RM-ASC": "SUP-NORTHBRIDGE",
    "RM-MCC": "SUP-CELLUTEC",
    "RM-MGS": "SUP-LUBRICHEM",
}
QUALIFICATION = "Supplier audit passed and three certificates confirmed by our own testing (demo)"
# The value each supplier's certificate states, by material.
CERTIFIED = {"RM-ASC": "99.6", "RM-MCC": "4.2", "RM-MGS": "3.1"}


def seed_specifications(session: Session, *, qa: User, clock: Clock) -> list[str]:
    """Each raw material's specification and its COA-qualified supplier, set by `qa`."""
    created = []
    for code, tests in SPECIFICATIONS.items():
        material = materials.get_by_code(session, code)
        if material is None or specifications.active_tests(session, material.id):  # type: ignore[arg-type]
            continue
        for test in tests:
            specifications.add_test(
                session,
                actor=qa,
                material_id=material.id,  # type: ignore[arg-type]
                new=test,
                clock=clock,
            )
        if code in QUALIFIED:
            specifications.qualify_supplier(
                session, actor=qa, material_id=material.id, party_code=QUALIFIED[code],  # type: ignore[arg-type]
                reason=QUALIFICATION, clock=clock,
            )  # fmt: skip
        created.append(f"specification {code}")
    return created


def test_and_release(
    session: Session, lot: Lot, *, containers: int, warehouse: User, qa: User,
    signing: DemoSigning,
) -> None:  # fmt: skip
    """The certificate that came with the delivery (attached by `warehouse`), then `qa`'s
    sample, identity test, the certified results taken from the certificate, and release."""
    clock = signing.clock
    material = session.get(Material, lot.material_id)
    assert material is not None
    certificate = qc.attach_certificate(
        session, actor=warehouse, lot_code=lot.lot_code,
        filename=f"COA {lot.supplier_lot}.pdf", data=certificate_pdf(lot, material), clock=clock,
    )  # fmt: skip
    qc.take_sample(session, actor=qa, lot_code=lot.lot_code, containers=str(containers),
                   clock=clock)  # fmt: skip
    for test in specifications.active_tests(session, material.id):  # type: ignore[arg-type]
        if test.identity:
            qc.record_result(session, actor=qa, lot_code=lot.lot_code, spec_test_id=test.id,
                             value="conforms", clock=clock)  # fmt: skip
        else:
            qc.record_result(
                session, actor=qa, lot_code=lot.lot_code, spec_test_id=test.id,
                value=CERTIFIED[material.code], source="coa", certificate_id=certificate.id,
                clock=clock,
            )  # fmt: skip
    signing.sign(session, qa, record_type="lot", record_id=lot.id, meaning="released")


def certificate_pdf(lot: Lot, material: Material) -> bytes:
    """A one-page PDF standing in for the supplier's certificate of analysis."""
    lines = [
        "CERTIFICATE OF ANALYSIS (demo)",
        f"Product: {material.name}",
        f"Lot: {lot.supplier_lot}   Expiry: {lot.expiry}",
        f"Result: {CERTIFIED.get(material.code, '')} - complies",
    ]
    text = (
        "BT /F1 14 Tf 72 760 Td 18 TL "
        + " ".join(f"({line.encode('ascii', 'replace').decode()}) '" for line in lines)
        + " ET"
    )
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text.encode()),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)
