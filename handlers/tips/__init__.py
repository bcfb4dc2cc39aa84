"""The resident's side: writing a tip, its alerts to officers, looking it up later with the
code and passphrase, and answering the police's questions."""
