"""Migrations of the team app."""
