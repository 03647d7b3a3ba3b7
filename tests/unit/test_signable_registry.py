"""Every signable record type is registered by the module the registry names, on its own."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

from app.services.esign import signable


@pytest.mark.parametrize(
    "record_type", sorted(k for k, v in signable.PROVIDERS.items() if v.startswith("app."))
)
def test_each_record_type_loads_from_its_provider_alone(record_type: str) -> None:
    # A fresh interpreter: nothing but the signing registry imported, as in the CLI's verify.
    code = (
        "from app.services.esign import signable\n"
        f"signable.importlib.import_module(signable.PROVIDERS[{record_type!r}])\n"
        f"assert {record_type!r} in signable._loaders\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_registering_an_unlisted_record_type_is_refused() -> None:
    with pytest.raises(ValueError, match="PROVIDERS"):
        signable.register("not_listed")
    assert importlib.import_module("app.services.esign.signable") is signable
