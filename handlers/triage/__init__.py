"""The officer's side of a tip: lists and views in the chat, the domain actions any interface
calls (status, notes, assignment, questions, duplicates), and exports."""
