"""The runner's named checks, in the order they run.

Schema validation runs after the client checks because it validates what they received.
Later checks (5 GDAL STACIT, 6 stac-browser) are added here as further ``Check`` entries:
a module with ``NAME``, ``TITLE`` and ``run(ctx) -> CheckResult``.
"""

from __future__ import annotations

from conformance import check_pystac_client, check_qgis, check_schemas, check_validator
from conformance.core import Check

CHECKS: list[Check] = [
    Check(check_validator.NAME, 1, check_validator.TITLE, check_validator.run),
    Check(check_pystac_client.NAME, 3, check_pystac_client.TITLE, check_pystac_client.run),
    Check(check_qgis.NAME, 4, check_qgis.TITLE, check_qgis.run),
    Check(check_schemas.NAME, 2, check_schemas.TITLE, check_schemas.run),
]

BY_NAME = {c.name: c for c in CHECKS}
