"""The warehouse: receipt, the stock ledger, QC disposition, issue, labels, output, shipping."""
