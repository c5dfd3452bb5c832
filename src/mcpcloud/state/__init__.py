"""Shared state behind small protocols: an in-memory default and Redis for many replicas."""
