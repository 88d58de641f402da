"""Model definitions: lead score per channel, calibration, score scale, reasons,
and their packaging as MLflow models."""
