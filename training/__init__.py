"""Pipelines that train, evaluate, compare and register models in MLflow."""
