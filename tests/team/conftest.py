"""Fixtures of the team-pack tests: local servers speaking GitHub's, Stripe's and Pinecone's wire formats."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import pinecone_wire
import stripe_wire
from github_wire import GitHubWire, make_app
from scenarios import github_scenario
from wire_thread import serve_wire


@pytest.fixture
def github_wire() -> Iterator[GitHubWire]:
    with serve_wire(github_scenario(), make_app) as wire:
        yield wire


@pytest.fixture
def stripe_api() -> Iterator[stripe_wire.StripeWire]:
    with serve_wire(stripe_wire.scenario(), stripe_wire.make_app) as wire:
        yield wire


@pytest.fixture
def pinecone_index() -> Iterator[pinecone_wire.PineconeWire]:
    with serve_wire(pinecone_wire.PineconeWire(), pinecone_wire.make_app) as wire:
        yield wire
