"""Clients for ML backends: one interface (client.py), two kinds (http_backend.py, sagemaker_backend.py)."""
