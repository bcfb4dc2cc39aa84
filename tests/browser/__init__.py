"""Tests in a real Chromium (Debian's, through chromedriver): tests/browser/harness.py."""
