"""`python -m bot` is the same as `tipline`."""

from bot.cli import main

main()
