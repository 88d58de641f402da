"""Routing: choosing closers and account managers online, in batches, and as recommendations."""
