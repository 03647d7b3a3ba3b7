"""What a person's home page shows: first what waits for them now, one row per kind of work with
its count and a link to the list where that work is; then the menu of what their roles may do.

Each count comes from the service that owns the rule (a quarantined lot waits for the QA person
who did not receive it; a revision waits for an approver who did not write it), and each menu
link shows by the `may_...` rule of the service behind it, so the home never offers what the
service would refuse. No link appears twice: a row of work takes the place of the same link in
the menu, and a link two roles share shows in the first role's panel only.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field

from sqlmodel import Session

from app.models import Alert, LotStatus, Meaning, Role, User
from app.services.accounts import users
from app.services.core import audit
from app.services.core.clock import Clock
from app.services.esign import devices, passkeys, signers
from app.services.execution import record
from app.services.masterdata import document_approval, equipment, training
from app.services.mbr import approval
from app.services.warehouse import corrections, disposition, issuing, ledger, shipping

Args = tuple[tuple[str, str], ...]


def _anyone(_user: User) -> bool:
    return True


@dataclass(frozen=True)
class Link:
    label: str
    endpoint: str
    args: Args = ()  # the list's filter, as URL parameters
    # Who is offered the link: the rule of the service behind it (reading is open to all).
    may: Callable[[User], bool] = field(default=_anyone, compare=False)

    @property
    def params(self) -> dict[str, str]:
        return dict(self.args)

    @property
    def target(self) -> tuple[str, Args]:
        """Where the link leads: two links with the same target are the same link."""
        return self.endpoint, self.args


@dataclass(frozen=True)
class Need:
    """One kind of work waiting for the person: how many, in words, and where it is."""

    kind: str  # stable, for the page's ids: "pick", "release", ...
    count: int
    words: str  # agreeing with the count: "batches wait to be picked"
    link: Link
    detail: str = ""  # the first few of them, or the next step


@dataclass(frozen=True)
class Panel:
    role: Role | None
    title: str
    summary: str
    links: list[Link] = field(default_factory=list)


@dataclass(frozen=True)
class HomePage:
    needs: list[Need]
    alerts: list[Alert]
    panels: list[Panel]


def home_page(
    session: Session, user: User, *, clock: Clock, policy: signers.SigningPolicy
) -> HomePage:
    """The person's home: what needs them now, their security alerts, then the menu of their
    roles without the links the needs already give. A fixed number of queries, however much
    work there is."""
    needs = needs_for(session, user, clock=clock, policy=policy)
    return HomePage(
        needs=needs,
        alerts=alerts_for(session, user),
        panels=panels_for(user, taken={need.link.target for need in needs}),
    )


def alerts_for(session: Session, user: User) -> list[Alert]:
    """Open security alerts, for admins only (others see none)."""
    return signers.open_alerts(session, viewer=user) if user.has_role(Role.ADMIN) else []


# --- What needs the person now ----------------------------------------------------------------


def _counted(n: int, one: str, many: str) -> str:
    return one if n == 1 else many


def _first(items: list[str], shown: int = 3) -> str:
    """The first `shown` of them, and how many more: "A, B, C and 2 more"."""
    more = len(items) - shown
    return ", ".join(items[:shown]) + (f" and {more} more" if more > 0 else "")


def needs_for(
    session: Session, user: User, *, clock: Clock, policy: signers.SigningPolicy
) -> list[Need]:
    """Each kind of work waiting for `user`, in the order to do it; kinds with nothing waiting
    are left out: the role's own work first, then the person's signing, the equipment they
    meet and their training. One query per kind (a few where the rule spans tables).

    A kind is told to the role whose work it is, as the menu's panels are (an admin may issue
    stock when the warehouse cannot, but picking is the warehouse's work), and only when the
    service's own rule lets the person do it."""
    if not user.active:
        return []
    roles = user.role_set
    return [
        need
        for need in (
            *(_floor(session) if roles & {Role.OPERATOR, Role.SUPERVISOR} else ()),
            *(_warehouse(session, user) if Role.WAREHOUSE in roles else ()),
            *(_quality(session, user) if roles & {Role.QA, Role.ADMIN} else ()),
            *(_identity_checks(session, user) if Role.ADMIN in roles else ()),
            *_signing(session, user, clock, policy),
            *_equipment(session, user, clock),
            *_training(session, user, clock),
        )
        if need.count > 0
    ]


def _signing(
    session: Session, user: User, clock: Clock, policy: signers.SigningPolicy
) -> Iterator[Need]:
    """The person's own e-signing, when they cannot sign yet: the next step, and a link to the
    page where it is done or explained."""
    status = signers.status(session, user, clock)
    mine = Link("My signing & passkeys", "account.index")
    steps = status.missing
    # A plant that signs with passkeys only: without one, nobody signs however active.
    passkey_only = not steps and not policy.password_signing
    if passkey_only and not passkeys.active_passkeys(session, user.id):  # type: ignore[arg-type]
        steps = ["you enrol a passkey: ask an admin for a one-time enrolment link"]
    if steps:
        words = _counted(len(steps), "step", "steps") + " before you can sign electronically"
        yield Need("signing", len(steps), words, mine, f"Next: {steps[0]}.")
    elif status.locked_until is not None:
        until = f"{clock.local(status.locked_until):%H:%M %Z}"
        yield Need(
            "signing",
            1,
            "signing locked after repeated failed attempts",
            mine,
            f"Until {until}; an admin has been alerted.",
        )


def _identity_checks(session: Session, user: User) -> Iterator[Need]:
    if not signers.may_check_identity(user):
        return
    waiting = signers.awaiting_identity_check(session, admin=user)
    words = _counted(len(waiting), "person waits", "people wait") + " for an identity check"
    yield Need("identity", len(waiting), words, Link("Users", "users.index"), _first(waiting))


def _floor(session: Session) -> Iterator[Need]:
    """Batches on the floor and the step each waits on (the executed record's own rule)."""
    running = record.my_work(session)
    words = [
        f"{batch.batch_no}: "
        + ("on hold" if batch.status == "on_hold" else
           f"step {step.step.code} {step.step.title}" if step else "all steps done")
        for batch, step in running
    ]  # fmt: skip
    # One batch running: one tap continues at the step it waits on.
    waiting = running[0][1] if len(running) == 1 and running[0][0].status == "in_progress" else None
    link = (
        Link("Continue", "batches.step",
             (("batch_no", running[0][0].batch_no), ("code", waiting.step.code)))
        if waiting is not None
        else Link("Batches", "batches.index")
    )  # fmt: skip
    yield Need(
        "floor",
        len(running),
        _counted(len(running), "batch is", "batches are") + " on the floor",
        link,
        _first(words, shown=2),
    )


def _warehouse(session: Session, user: User) -> Iterator[Need]:
    if not ledger.may_move_stock(user):
        return
    batches = issuing.batches_to_pick(session)
    # One batch: its pick list straight away (the page takes the batch as its filter).
    args: Args = (("batch_no", batches[0]),) if len(batches) == 1 else ()
    yield Need(
        "pick",
        len(batches),
        _counted(len(batches), "batch waits", "batches wait") + " to be picked",
        Link("Pick for a batch", "lots.pick", args),
        _first(batches),
    )
    open_ = shipping.open_shipments(session)
    yield Need(
        "ship",
        len(open_),
        _counted(len(open_), "shipment", "shipments") + " started, not despatched",
        Link("Shipments", "shipments.index"),
        _first(open_),
    )


def _quality(session: Session, user: User) -> Iterator[Need]:
    if disposition.may_decide(user):
        lots = disposition.lots_to_decide(session, user)
        quarantined, held = lots[LotStatus.QUARANTINE], lots[LotStatus.ON_HOLD]
        yield Need(
            "release",
            len(quarantined),
            _counted(len(quarantined), "lot waits", "lots wait") + " in quarantine for your "
            "QC decision",
            Link("Lots in quarantine", "lots.index", (("status", LotStatus.QUARANTINE.value),)),
            _first(quarantined),
        )
        yield Need(
            "hold",
            len(held),
            _counted(len(held), "lot is", "lots are") + " on hold: lift the hold or reject",
            Link("Lots on hold", "lots.index", (("status", LotStatus.ON_HOLD.value),)),
            _first(held),
        )
    if corrections.may_approve_counts(user):
        counted = corrections.counts_to_approve(session, user)
        yield Need(
            "count",
            len(counted),
            _counted(len(counted), "stock count waits", "stock counts wait") + " for your approval",
            Link("Lots with a count to approve", "lots.index", (("count", "waiting"),)),
            _first(counted),
        )
    revisions = approval.revisions_to_sign(session, user)
    to_sign = [f"{title} (approve)" for title in revisions[Meaning.APPROVED]]
    to_sign += [f"{title} (as author)" for title in revisions[Meaning.AUTHORED]]
    yield Need(
        "mbr",
        len(to_sign),
        _counted(len(to_sign), "master batch record revision waits",
                 "master batch record revisions wait") + " for your signature",
        Link("Master batch records", "recipes.index"),
        _first(to_sign),
    )  # fmt: skip
    documents = document_approval.revisions_to_approve(session, user)
    yield Need(
        "document",
        len(documents),
        _counted(len(documents), "document revision waits", "document revisions wait")
        + " for your approval",
        Link("Documents (SOPs)", "documents.index"),
        _first(documents),
    )


def _equipment(session: Session, user: User, clock: Clock) -> Iterator[Need]:
    """Equipment that would stop work at its gate: for those who work with it and clean it."""
    if not equipment.may_clean(user):
        return
    blocked = equipment.not_ready(session, clock)
    yield Need(
        "equipment",
        len(blocked),
        _counted(len(blocked), "piece", "pieces") + " of equipment not ready to use",
        Link("Equipment", "equipment.index"),
        _first([f"{item.code}: {status.words}" for item, status in blocked], shown=2),
    )


def _training(session: Session, user: User, clock: Clock) -> Iterator[Need]:
    """The person's own training that is due, and, for those who see everyone's training, the
    people whose training is due."""
    today = clock.today()
    everyone = training.may_see_matrix(user)
    due = training.due_training(session, today=today, person=None if everyone else user)
    mine = next((d.states for d in due if d.user_id == user.id), [])
    yield Need(
        "training",
        len(mine),
        "training due for you",
        Link("My training", "training.person", (("user_id", str(user.id)),)),
        _first([f"{state.curriculum.code}: {state.words}" for state in mine], shown=2),
    )
    if everyone:
        yield Need(
            "team-training",
            len(due),
            _counted(len(due), "person has", "people have") + " training due",
            Link("Training", "training.index"),
            _first([d.name for d in due]),
        )


# --- The menu ---------------------------------------------------------------------------------


def panels_for(user: User, taken: Collection[tuple[str, Args]] = ()) -> list[Panel]:
    """One panel per role the user holds, in a fixed order, then what everyone has. A panel
    shows the links its role offers that `user` may use (each service's own rule), except those
    in `taken` (already on the page) and those an earlier panel shows; a panel left without
    links is left out."""
    audit_trail = Link("Audit trail", "audit.index", may=audit.may_read)
    mbr = Link("Master batch records", "recipes.index")
    trained = Link("Training", "training.index", may=training.may_see_matrix)
    master = [
        Link("Materials", "materials.index"),
        Link("Equipment", "equipment.index"),
        Link("Suppliers & customers", "parties.index"),
    ]
    stock = ledger.may_move_stock
    catalogue = {
        Role.OPERATOR: Panel(
            Role.OPERATOR,
            "Floor work",
            "The equipment you work with and its status; the SOPs you work by.",
            [
                Link("Equipment status", "equipment.index"),
                Link("Documents (SOPs)", "documents.index"),
            ],
        ),
        Role.WAREHOUSE: Panel(
            Role.WAREHOUSE,
            "Warehouse",
            "Receive deliveries into quarantine, print labels, issue to batches, ship.",
            [
                Link("Receive", "lots.receive_page", may=stock),
                Link("Pick for a batch", "lots.pick", may=stock),
                Link("Issue to a batch", "lots.issue_page", may=stock),
                Link("Lots", "lots.index"),
                Link("Finished goods in", "lots.output_page", may=stock),
                Link("Shipments", "shipments.index", may=stock),
            ],
        ),
        Role.QA: Panel(
            Role.QA,
            "Quality",
            "Lots to release, master batch records to approve; the audit trail of any record.",
            [Link("Lots", "lots.index"), mbr, *master, trained, audit_trail],
        ),
        Role.SUPERVISOR: Panel(
            Role.SUPERVISOR,
            "Supervision",
            "Create batches from effective master batch records; follow the floor.",
            [Link("Batches", "batches.index"), trained, audit_trail],
        ),
        Role.ADMIN: Panel(
            Role.ADMIN,
            "Administration",
            "Accounts and their roles, devices, master data and the audit trail.",
            [
                Link("Users", "users.index", may=users.may_manage),
                Link("Devices", "devices.index", may=devices.may_register),
                mbr,
                *master,
                trained,
                audit_trail,
            ],
        ),
    }
    everyone = Panel(
        None,
        "Signatures",
        "Your e-signing status and passkeys; SOPs to read and sign.",
        [
            Link("My signing & passkeys", "account.index"),
            Link("Documents (SOPs)", "documents.index"),
        ],
    )
    shown = set(taken)
    panels = []
    for panel in [catalogue[role] for role in Role if role in user.role_set] + [everyone]:
        links = []
        for link in panel.links:
            if link.target not in shown and link.may(user):
                shown.add(link.target)
                links.append(link)
        if links:  # a panel whose links are all on the page already has nothing to add
            panels.append(Panel(panel.role, panel.title, panel.summary, links))
    return panels
