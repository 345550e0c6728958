"""The classroom server: an offline-first learning hub for one school or classroom."""

__version__ = "0.1.0"
