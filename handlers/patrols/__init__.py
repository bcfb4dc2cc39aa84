"""People's patrol groups: joining, shifts with checkpoints and incidents, and their officers'
administration and missed-patrol checks."""
