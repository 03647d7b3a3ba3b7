"""HTTP only: parse the request, call one service, render a page or a partial.

One package per plant area, the same areas as `app/services/` and `app/templates/`.
"""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from app.routes.accounts import account, auth, users
    from app.routes.core import audit, health, home, pwa
    from app.routes.esign import devices, signing
    from app.routes.execution import batches
    from app.routes.masterdata import documents, equipment, materials, parties, training
    from app.routes.mbr import recipes
    from app.routes.quality import qc
    from app.routes.warehouse import lots, shipments

    for module in (auth, home, users, audit, health, pwa, account, signing, devices, documents):
        app.register_blueprint(module.bp)
    for module in (recipes, training, materials, equipment, parties, lots, shipments, batches, qc):
        app.register_blueprint(module.bp)
