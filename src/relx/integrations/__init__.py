"""Integrations: the HTTP service, the spaCy component and Ray batch prediction."""
