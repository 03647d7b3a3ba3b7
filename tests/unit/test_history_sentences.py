"""Histories in sentences (issue 12 point 12): every action the services record has its words in
history.SENTENCES, found by reading the services' source (no database).

The action of each `audit.record(...)` call is read with `ast`: a literal, a choice between
literals, or an f-string whose names are followed to their values: a module constant, a local
assignment, or a parameter, followed to every call of that function in the services (with the
parameters of one call kept together, so `f"{entity_type}.{actions[0]}"` yields only the pairs
that are really passed). An action built from something else must be listed in EXPANDED with the
values it takes, or the test fails and says which call it could not read.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from app.canonical import canonical_json
from app.models import AuditEvent
from app.services.core import history
from app.services.execution import record
from app.services.masterdata import imports
from app.services.warehouse import disposition

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ROOT / "app" / "services"
RECORD = "app.services.core.audit.record"

# Actions whose values come from data the source does not spell out, by (module, expression).
EXPANDED: dict[tuple[str, str], Callable[[], set[str]]] = {
    ("app.services.warehouse.disposition", "f'lot.{meaning.value}'"): lambda: {
        f"lot.{m.value}" for m in disposition.DISPOSITIONS
    },
    ("app.services.masterdata.imports", "f'import.{kind_name}'"): lambda: {
        f"import.{k}" for k in imports.KINDS
    },
    ("app.services.execution.record", "f'batch.{move}'"): lambda: {
        f"batch.{m}" for m in record.MOVES
    },
    ("app.services.execution.record", "f'step.{meaning.value}'"): lambda: {
        "step.performed",
        "step.verified",
    },
}


class Unreadable(Exception):
    """An action expression the collector cannot follow to its values."""


class Module:
    """One services module: its imports, functions and module-level constants."""

    def __init__(self, path: Path) -> None:
        self.name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        self.tree = ast.parse(path.read_text())
        self.imports: dict[str, str] = {}
        self.functions: dict[str, ast.FunctionDef] = {}
        self.constants: dict[str, ast.expr] = {}
        for node in self.tree.body:
            if isinstance(node, ast.ImportFrom) and node.module:
                self.imports |= {a.asname or a.name: f"{node.module}.{a.name}" for a in node.names}
            elif isinstance(node, ast.Import):
                self.imports |= {a.asname or a.name: a.name for a in node.names}
            elif isinstance(node, ast.FunctionDef):
                self.functions[node.name] = node
            elif isinstance(node, ast.Assign):
                self.constants |= {
                    t.id: node.value for t in node.targets if isinstance(t, ast.Name)
                }
            elif (
                isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Name)
                and node.value is not None
            ):
                self.constants[node.target.id] = node.value
        self.parents = {c: p for p in ast.walk(self.tree) for c in ast.iter_child_nodes(p)}

    def enclosing(self, node: ast.AST) -> ast.FunctionDef | None:
        while node in self.parents:
            node = self.parents[node]
            if isinstance(node, ast.FunctionDef):
                return node
        return None

    def qualified(self, func: ast.expr) -> str | None:
        """The full name of what a call calls, as far as this module's imports tell."""
        if isinstance(func, ast.Name):
            if func.id in self.functions:
                return f"{self.name}.{func.id}"
            return self.imports.get(func.id)
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            base = self.imports.get(func.value.id)
            return f"{base}.{func.attr}" if base else None
        return None


MODULES = {m.name: m for m in (Module(p) for p in sorted(SERVICES.rglob("*.py")))}
Bound = dict[str, set[Any]]


def _parameters(fn: ast.FunctionDef | None) -> list[str]:
    if fn is None:
        return []
    return [a.arg for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs]


def _calls_of(module: Module, fn: ast.FunctionDef) -> Iterator[tuple[Module, Any, dict[str, Any]]]:
    """Every call of `fn` in the services: the caller, its function, the argument per name."""
    target = f"{module.name}.{fn.name}"
    positional = [a.arg for a in fn.args.posonlyargs + fn.args.args]
    for caller in MODULES.values():
        for call in ast.walk(caller.tree):
            if isinstance(call, ast.Call) and caller.qualified(call.func) == target:
                given = {k.arg: k.value for k in call.keywords if k.arg}
                given |= dict(zip(positional, call.args, strict=False))
                yield caller, caller.enclosing(call), given


def _valued_names(expr: ast.expr) -> set[str]:
    """The names whose values make up `expr` (the condition of a choice only picks one)."""
    if isinstance(expr, ast.IfExp):
        return _valued_names(expr.body) | _valued_names(expr.orelse)
    if isinstance(expr, ast.Name):
        return {expr.id}
    children = [c for c in ast.iter_child_nodes(expr) if isinstance(c, ast.expr)]
    return set().union(*(_valued_names(c) for c in children))


def _per_call(expr: ast.expr, module: Module, fn: ast.FunctionDef | None) -> set[Any]:
    """The values of `expr`, its parameters bound call by call."""
    used = _valued_names(expr) & set(_parameters(fn))
    if fn is None or not used:
        return _values(expr, module, fn, {})
    calls = list(_calls_of(module, fn))
    if not calls:
        raise Unreadable(f"{module.name}: {fn.name} is called from nowhere in the services")
    found: set[Any] = set()
    for caller, caller_fn, given in calls:
        if used - set(given):
            raise Unreadable(f"{caller.name}: a call of {fn.name} without {used - set(given)}")
        bound = {name: _per_call(given[name], caller, caller_fn) for name in used}
        found |= _values(expr, module, fn, bound)
    return found


def _values(expr: ast.expr, module: Module, fn: ast.FunctionDef | None, bound: Bound) -> set[Any]:
    def again(e: ast.expr) -> set[Any]:
        return _values(e, module, fn, bound)

    if isinstance(expr, ast.Constant) and isinstance(expr.value, str | int):
        return {expr.value}
    if isinstance(expr, ast.IfExp):
        return again(expr.body) | again(expr.orelse)
    if isinstance(expr, ast.JoinedStr):
        parts = [again(v.value if isinstance(v, ast.FormattedValue) else v) for v in expr.values]
        return {"".join(str(p) for p in combo) for combo in itertools.product(*parts)}
    if isinstance(expr, ast.Tuple):
        return set(itertools.product(*(again(e) for e in expr.elts)))
    if isinstance(expr, ast.Subscript) and isinstance(expr.slice, ast.Constant):
        return {t[expr.slice.value] for t in again(expr.value)}
    if isinstance(expr, ast.Name):
        if expr.id in bound:
            return bound[expr.id]
        if fn is not None:
            local = [
                n.value
                for n in ast.walk(fn)
                if isinstance(n, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == expr.id for t in n.targets)
            ]
            if local:
                return set().union(*(again(v) for v in local))
        if expr.id in module.constants:
            return _values(module.constants[expr.id], module, None, {})
        where, _, name = module.imports.get(expr.id, "").rpartition(".")
        if where in MODULES and name in MODULES[where].constants:
            return _values(MODULES[where].constants[name], MODULES[where], None, {})
    if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name):
        where = module.imports.get(expr.value.id, "")
        if where in MODULES and expr.attr in MODULES[where].constants:
            return _values(MODULES[where].constants[expr.attr], MODULES[where], None, {})
    raise Unreadable(f"{module.name}: {ast.unparse(expr)}")


def recorded_actions() -> tuple[dict[str, str], list[str]]:
    """Every action the services record (with a module that records it), and what could not
    be read."""
    actions: dict[str, str] = {}
    unreadable: list[str] = []
    for module in MODULES.values():
        for call in ast.walk(module.tree):
            if not (isinstance(call, ast.Call) and module.qualified(call.func) == RECORD):
                continue
            expr = next(k.value for k in call.keywords if k.arg == "action")
            expanded = EXPANDED.get((module.name, ast.unparse(expr)))
            try:
                found = expanded() if expanded else _per_call(expr, module, module.enclosing(call))
            except Unreadable as exc:
                unreadable.append(str(exc))
                continue
            actions |= {str(a): module.name for a in found}
    return actions, unreadable


def test_every_recorded_action_has_its_sentence() -> None:
    actions, unreadable = recorded_actions()
    assert unreadable == [], "teach EXPANDED the values of these actions"
    assert len(actions) > 80  # the reading found the services' actions, not a handful
    missing = sorted(
        f"{a} (recorded in {m})" for a, m in actions.items() if a not in history.SENTENCES
    )
    assert missing == [], "add a sentence to app/services/core/history.py SENTENCES"
    assert sorted(set(history.SENTENCES) - set(actions)) == []  # no words for nothing


def test_the_reader_keeps_the_parameters_of_one_call_together() -> None:
    actions, _ = recorded_actions()
    assert {"equipment.taken_out_of_service", "material.deactivated", "logout"} <= set(actions)
    assert "material.taken_out_of_service" not in actions  # no call passes that pair


def _event(action: str, *, after: dict[str, Any] | None = None, **fields: Any) -> AuditEvent:
    values: dict[str, Any] = {
        "occurred_at": datetime(2026, 11, 22, 9, 0, tzinfo=UTC),
        "actor_id": 7,
        "actor_username": "quinn",
        "action": action,
        "entity_type": "lot",
        "entity_id": "1",
        "after": canonical_json(after) if after is not None else None,
        "prev_hash": "0" * 64,
        "row_hash": "1" * 64,
    }
    return AuditEvent(**(values | fields))


NAMES = {7: "Quinn Adeyemi"}


@pytest.mark.parametrize(
    ("event", "sentence"),
    [
        (
            _event("signature.created", after={"meaning": "released", "method": "passkey"}),
            "Released by Quinn Adeyemi — passkey signature",
        ),
        (
            _event("signature.created", after={"meaning": "held", "method": "password"}),
            "Put on hold by Quinn Adeyemi — user ID and password signature",
        ),
        (
            _event(
                "lot.released",
                after={"status": "released"},
                before=canonical_json({"status": "quarantine"}),
            ),
            "Lot released by Quinn Adeyemi (was quarantine)",
        ),
        (
            _event("lot.issued", after={"quantity": "1250.5", "unit": "kg", "batch_no": "VC-1"}),
            "Issued 1,250.5 kg to batch VC-1 by Quinn Adeyemi",
        ),
        (
            _event("lot.received", after={"quantity": "25.00", "unit": "kg", "containers": 1}),
            "Received 25.00 kg in 1 container into quarantine by Quinn Adeyemi",
        ),
        (
            _event("lot.label_printed", after={"status": "quarantine", "labels": 10}),
            "10 labels printed by Quinn Adeyemi",
        ),
        # An older event without a newer fact falls back to the next template.
        (
            _event("lot.label_printed", after={"status": "quarantine"}),
            "Label printed by Quinn Adeyemi",
        ),
        # An action the table lacks still reads as words.
        (_event("lot.teleported"), "Lot teleported by Quinn Adeyemi"),
        # Nobody signed in, and the server's command line.
        (
            _event(
                "login.failed", actor_id=None, actor_username="anonymous", after={"reason": "x"}
            ),
            "Sign-in failed (x)",
        ),
        (
            _event(
                "material.created", actor_id=None, actor_username="cli:root", after={"code": "RM-1"}
            ),
            "Material RM-1 created by the server's command line (root)",
        ),
    ],
)
def test_an_event_reads_as_a_sentence(event: AuditEvent, sentence: str) -> None:
    assert history.describe(event, names=NAMES) == sentence
    assert event.action not in sentence


def test_without_the_name_the_username_is_shown() -> None:
    event = _event("lot.adjusted")
    assert history.describe(event) == "Stock adjustment approved by quinn"
