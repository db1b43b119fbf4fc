"""Records: field tables, schemas, values and readers (bytes in, dicts out)."""
