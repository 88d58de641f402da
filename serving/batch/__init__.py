"""Batch re-scoring of a whole lead base: a local streaming engine and a Spark engine.

Both engines apply the same function, `scoring.score_frame`, to frames of
leads, so a lead gets the numbers the API would give it whichever way it is
scored. `job.rescore` is the entry point the CLI calls.
"""
