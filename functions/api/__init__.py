"""The HTTP API: Label Studio's paths, status codes and JSON, on FastAPI."""
