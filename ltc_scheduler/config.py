"""Settings from the environment (pydantic-settings).

``DATABASE_URL`` selects the database (default: SQLite file ``data/ltc_scheduler.db`` in the
project folder); ``LTC_TIMEZONE`` is the pharmacy's display time zone. The solver time limit is
not an environment setting: it is the constraint set's ``time_limit_s`` (Constraints page, kept
with each plan), or ``plan --time-limit`` for one run.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{DATA_DIR / 'ltc_scheduler.db'}",
        validation_alias="DATABASE_URL",
    )
    timezone: str = Field(default="America/Chicago", validation_alias="LTC_TIMEZONE")
    user: str = Field(default="coordinator", validation_alias="LTC_USER")
    #: travel matrix source: "haversine" (built in, no server) or "osrm" (needs LTC_OSRM_URL)
    travel_provider: str = Field(default="haversine", validation_alias="LTC_TRAVEL_PROVIDER")
    osrm_url: str | None = Field(default=None, validation_alias="LTC_OSRM_URL")
    osrm_timeout_s: float = Field(default=30.0, validation_alias="LTC_OSRM_TIMEOUT_S", gt=0)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
