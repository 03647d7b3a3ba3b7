"""Pages of the execution area: batches."""
