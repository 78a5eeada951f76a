"""bridge: one STAC API over commercial satellite-imagery archives."""

import logging

__version__ = "0.1.0"

# stac-fastapi builds default settings at import time and warns that their title and
# version are defaults; the bridge always passes its own, so the warning is noise.
logging.getLogger("stac_fastapi.types.config").setLevel(logging.ERROR)
