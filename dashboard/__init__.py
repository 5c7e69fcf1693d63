"""envdash's Django project and app.

This package's ``__init__`` must stay free of Django imports: manage.py imports
``dashboard.bootstrap`` before Django is installed.
"""
