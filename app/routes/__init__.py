"""HTTP only: parse the request, call one service, render a page or a partial."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from app.routes import (
        account,
        audit,
        auth,
        batches,
        devices,
        documents,
        equipment,
        health,
        home,
        lots,
        materials,
        parties,
        pwa,
        recipes,
        shipments,
        signing,
        training,
        users,
    )

    for module in (auth, home, users, audit, health, pwa, account, signing, devices, documents):
        app.register_blueprint(module.bp)
    for module in (recipes, training, materials, equipment, parties, lots, shipments, batches):
        app.register_blueprint(module.bp)
