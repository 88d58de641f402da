"""The FastAPI scoring service: `create_app(settings)` builds it, `run(settings)` serves it."""
