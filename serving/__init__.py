"""The FastAPI scoring service: `create_app(config)` builds it, `run(config)` serves it."""
