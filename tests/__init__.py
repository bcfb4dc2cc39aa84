"""Tipline tests: real databases, a fake Bot API over HTTP, the real handlers."""
