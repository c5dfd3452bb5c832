"""Fixtures of the observability tests (helpers live in obs_helpers, a name no other suite uses)."""

from obs_helpers import prometheus_binaries, server_factory

__all__ = ["prometheus_binaries", "server_factory"]
