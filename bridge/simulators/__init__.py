"""Faithful stand-ins for the providers' native APIs, one subpackage per provider.

Each subpackage exposes ``create_app(config: SimulatorConfig) -> Starlette`` and
``sandbox_credentials() -> dict[str, str]`` (the :class:`~bridge.settings.ProviderSettings`
fields a native client needs against it).
"""
