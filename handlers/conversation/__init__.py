"""The conversation every feature takes part in: a turn's state and steps, the detour back to a
tip draft, the typed button codec, and what a feature declares for dispatch to merge."""
