"""End-to-end tests: real processes and the real python-telegram-bot stack over HTTP."""
