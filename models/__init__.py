"""Model definitions: lead score per channel, calibration, score scale, reasons,
the assignment policy and its evaluation, and their packaging as MLflow models."""
