"""How numbers are shown on pages: one filter, `qty`, for every quantity with its unit (the
rule itself is `quantities.shown`, which service messages use too)."""

from __future__ import annotations

from flask import Flask

from app.services.core.quantities import shown as qty


def init_app(app: Flask) -> None:
    app.add_template_filter(qty, "qty")


__all__ = ["init_app", "qty"]
