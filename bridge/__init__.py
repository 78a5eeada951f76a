"""bridge: one STAC API over commercial satellite-imagery archives."""

__version__ = "0.1.0"
