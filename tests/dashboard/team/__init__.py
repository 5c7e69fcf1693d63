"""Tests of the team app (snapshots API, team page, tokens)."""
