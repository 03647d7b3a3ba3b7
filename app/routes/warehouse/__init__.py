"""Pages of the warehouse area: lots (receipt, QC, issue, labels, output) and shipments."""
