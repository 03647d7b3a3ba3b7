"""Genealogy, FSMA 204 traceability and the executed record."""
