"""`manage.py openapi`: print the JSON API's OpenAPI document, as /api/openapi.json
serves it (`python3 manage.py openapi > docs/openapi.json` refreshes the checked-in copy)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand

from dashboard.api.schema import document


class Command(BaseCommand):
    help = "Print the JSON API's OpenAPI 3.1 document."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(json.dumps(document(), indent=2, ensure_ascii=False))
