"""Master batch records: recipes, revisions, steps, BOM, approval, compare."""
