"""Feature definitions shared by training and serving: one spec, no skew."""
