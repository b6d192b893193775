"""Clients for ML backends: one interface (protocol.py), two kinds (http_backend.py, sagemaker_backend.py),
and client.py, which picks the kind's client for a backend."""
