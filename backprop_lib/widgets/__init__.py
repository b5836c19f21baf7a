"""Interactive figures of the chapters: one module per widget; a notebook cell is one call."""
