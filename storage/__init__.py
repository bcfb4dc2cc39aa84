"""Tables, migrations and the functions that read and write them; no chat platform here."""
