"""Management commands of the team app."""
