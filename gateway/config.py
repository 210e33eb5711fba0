"""One typed settings object, from a TOML file and ``HEDUI_*`` environment variables.

Precedence (highest first): environment variables (``HEDUI_DATABASE_URL``, nested with ``__``,
e.g. ``HEDUI_ADAPTERS__BANK__BASE_URL``), the TOML file named by ``HEDUI_CONFIG``, defaults.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from adapters.declarative import DeclarativeSpec
from adapters.resilience import ResiliencePolicy

__all__ = ["AdapterSettings", "ResilienceSettings", "Settings", "load_settings"]


class ResilienceSettings(BaseModel):
    """``[adapters.<name>.resilience]``: see :class:`adapters.resilience.ResiliencePolicy`."""

    model_config = ConfigDict(extra="forbid")

    attempt_timeout_s: float = Field(default=5.0, gt=0)
    max_attempts: int = Field(default=3, ge=1, le=10)
    backoff_initial_s: float = Field(default=0.05, ge=0)
    backoff_max_s: float = Field(default=2.0, ge=0)
    backoff_jitter_s: float = Field(default=0.05, ge=0)
    failure_threshold: int = Field(default=5, ge=1)
    reset_timeout_s: float = Field(default=30.0, ge=0)
    half_open_max_calls: int = Field(default=1, ge=1)
    max_concurrency: int = Field(default=64, ge=0)  # 0: unlimited
    rate_per_s: float = Field(default=0.0, ge=0)  # 0: unlimited
    burst: int = Field(default=1, ge=1)
    daily_quota: int = Field(default=0, ge=0)  # 0: unlimited
    quota_utc_offset_h: int = Field(default=8, ge=-12, le=14)

    def policy(self) -> ResiliencePolicy:
        """The policy the gateway wraps the adapter with."""
        return ResiliencePolicy(**self.model_dump())


Tier = Literal["county", "provincial", "national"]
TIERS: tuple[Tier, ...] = ("county", "provincial", "national")


class AdapterSettings(BaseModel):
    """One data source: where it lives and whether it is queried."""

    enabled: bool = True
    base_url: str = ""  # empty: ``sources_base_url``
    options: dict[str, Any] = Field(default_factory=dict)
    resilience: ResilienceSettings = Field(default_factory=lambda: ResilienceSettings())
    probe_id_number: str = ""  # the subject `hedui adapters check` asks about ("": nobody)
    # the tiers of the three-tier network (seed 004 四.4) at which this source may be queried
    tiers: list[Tier] = Field(default_factory=lambda: list(TIERS))


class Settings(BaseSettings):
    """Everything the gateway reads at start-up."""

    model_config = SettingsConfigDict(
        env_prefix="HEDUI_", env_nested_delimiter="__", extra="forbid"
    )

    listen: str = "127.0.0.1:50051"
    database_url: str = "sqlite:///var/hedui.db"
    key_dir: Path = Path("var/keys")
    log_json: bool = False
    log_level: str = "INFO"
    default_deadline_s: float = 10.0  # used when the client sets no deadline
    max_deadline_s: float = 60.0
    sources_base_url: str = "http://127.0.0.1:8700"  # the department simulator by default
    adapters: dict[str, AdapterSettings] = Field(default_factory=dict)
    adapter_allowlist: list[str] = Field(default_factory=list)  # empty: every installed adapter
    sources: dict[str, DeclarativeSpec] = Field(default_factory=dict)  # declarative, no Python
    log_origin: str = "hedui.example/log"  # the checkpoint origin line
    checkpoint_interval_s: float = 1.0
    integrator_process: bool = True  # integrate the audit log in a child process, not the loop
    max_message_bytes: int = 4 * 1024 * 1024
    policy_dir: Path | None = None  # policy files (TOML); None: the shipped examples
    metrics_listen: str = "127.0.0.1:9464"  # Prometheus endpoint host:port; "": none
    workers: int = Field(default=1, ge=1, le=64)  # serving processes on one port (`serve`)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = os.environ.get("HEDUI_CONFIG")
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml))
        return tuple(sources)

    def adapter(self, name: str) -> AdapterSettings:
        """Settings for adapter ``name`` with the shared base URL filled in."""
        own = self.adapters.get(name, AdapterSettings())
        return own if own.base_url else own.model_copy(update={"base_url": self.sources_base_url})


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment and ``HEDUI_CONFIG``, with explicit overrides on top."""
    return Settings(**overrides)
