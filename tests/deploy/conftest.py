"""Fixtures of the deploy tests: moto's server for the provision mirror test."""

from __future__ import annotations

from tests.aws_server import moto_server

__all__ = ["moto_server"]
