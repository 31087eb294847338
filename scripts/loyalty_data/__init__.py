"""Deterministic demo data for the Loyalty Segments project (see scripts/generate_data.py)."""

from .config import GeneratorConfig
from .generate import generate, is_fresh

__all__ = ["GeneratorConfig", "generate", "is_fresh"]
