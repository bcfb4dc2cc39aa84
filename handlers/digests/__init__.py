"""The officers' morning digests: what they say, who gets them when, and /digest."""
