"""The tracking service's HTTP API (FastAPI): thin routes over the handlers in ``work``."""
