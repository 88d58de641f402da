"""Judging routing policies on past leads: replayed, against the truth or doubly robust."""
