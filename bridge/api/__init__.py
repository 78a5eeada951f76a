"""The STAC API surface: request models, the stac-fastapi client, links, error handlers."""
