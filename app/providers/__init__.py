"""Clients of external APIs."""
