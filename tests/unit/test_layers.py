"""Layers point one way: routes -> services -> models. No service knows about HTTP."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "app"


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def _offenders(folder: str, forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for path in sorted((APP / folder).rglob("*.py")):
        for name in _imports(path):
            if name == forbidden or name.startswith(forbidden):
                found.append(f"{path.relative_to(APP.parent)} imports {name}")
    return found


@pytest.mark.parametrize(
    ("layer", "forbidden"),
    [
        ("services", ("flask", "werkzeug", "flask_login", "flask_wtf", "flask_htmx", "app.routes",
                      "app.web", "app.htmx", "app.forms")),
        ("models", ("flask", "app.services", "app.routes", "app.web")),
        ("routes", ("app.models.base", "sqlalchemy.orm")),
    ],
)  # fmt: skip
def test_layers_import_only_downwards(layer: str, forbidden: tuple[str, ...]) -> None:
    assert _offenders(layer, forbidden) == []


def test_every_area_has_its_package_in_each_layer() -> None:
    areas = {"core", "accounts", "esign", "masterdata", "mbr", "warehouse", "execution",
             "quality", "trace"}  # fmt: skip
    for layer in ("services", "routes"):
        present = {p.name for p in (APP / layer).iterdir() if (p / "__init__.py").exists()}
        assert areas <= present, f"app/{layer} lacks {sorted(areas - present)}"
