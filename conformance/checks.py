"""The runner's named checks, in the order they run.

Schema validation runs last because it validates what the other checks received. A check
is a module with ``NAME``, ``TITLE`` and ``run(ctx) -> CheckResult``.
"""

from __future__ import annotations

from conformance import (
    check_browser,
    check_gdal,
    check_pystac_client,
    check_qgis,
    check_schemas,
    check_schemathesis,
    check_stapi,
    check_validator,
)
from conformance.core import Check

CHECKS: list[Check] = [
    Check(check_validator.NAME, 1, check_validator.TITLE, check_validator.run),
    Check(check_pystac_client.NAME, 3, check_pystac_client.TITLE, check_pystac_client.run),
    Check(check_qgis.NAME, 4, check_qgis.TITLE, check_qgis.run),
    Check(check_gdal.NAME, 5, check_gdal.TITLE, check_gdal.run),
    Check(check_browser.NAME, 6, check_browser.TITLE, check_browser.run),
    Check(check_schemathesis.NAME, 7, check_schemathesis.TITLE, check_schemathesis.run),
    Check(check_stapi.NAME, 8, check_stapi.TITLE, check_stapi.run),
    Check(check_schemas.NAME, 2, check_schemas.TITLE, check_schemas.run),
]

BY_NAME = {c.name: c for c in CHECKS}
