"""Sandbox configuration from the environment."""

from __future__ import annotations

import pytest

from bridge.sandbox import simulator_config
from bridge.settings import Settings


def test_simulator_faults_come_from_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIDGE_SIMULATORS__FAULTS__CAPELLA__DELAY_MS", "50")
    monkeypatch.setenv("BRIDGE_SIMULATORS__FAULTS__CAPELLA__ERROR_RATE", "0.25")
    monkeypatch.setenv("BRIDGE_SIMULATORS__SCENES", "5000")
    settings = Settings()
    capella = simulator_config(settings, "capella")
    assert capella.faults.delay_ms == 50 and capella.faults.error_rate == 0.25
    assert capella.scenes == 5000
    assert not simulator_config(settings, "iceye").faults.is_active()


def test_sandbox_is_the_default_without_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().sandbox_enabled()
    monkeypatch.setenv("BRIDGE_PROVIDERS__CAPELLA__API_KEY", "real-key")
    settings = Settings()
    assert not settings.sandbox_enabled()
    assert "real-key" not in repr(settings) and "real-key" not in str(settings.model_dump())
