"""Pages of the mbr area: master batch records."""
