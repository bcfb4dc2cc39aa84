"""What Tipline does, as async functions over plain data; no chat platform here."""
