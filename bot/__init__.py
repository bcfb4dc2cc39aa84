"""The shell: settings, CLI, channels, scheduler and wiring."""
