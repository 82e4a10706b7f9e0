"""Server settings: defaults, then ``INFRALEASH_SERVER_*`` environment variables."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

ENV_PREFIX = "INFRALEASH_SERVER_"


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "infraleash-server"


class OidcSettings(BaseModel):
    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str | None = Field(default=None, description="default BASE_URL/oidc/callback")


class ServerSettings(BaseModel):
    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str | None = Field(default=None, description="default sqlite:///DATA_DIR/server.db")
    host: str = "127.0.0.1"
    port: int = 8787
    base_url: str | None = None
    signing_key_path: Path | None = Field(default=None, description="default DATA_DIR/signing-key.pem")
    session_secret: str | None = None
    request_ttl_s: int = 24 * 3600
    oidc: OidcSettings | None = None
    webhooks: list[str] = Field(default_factory=list)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: Any) -> ServerSettings:
        """Settings from ``INFRALEASH_SERVER_<FIELD>`` variables (``..._WEBHOOKS`` comma separated;
        OpenID Connect from ``..._OIDC_ISSUER``, ``..._OIDC_CLIENT_ID``, ``..._OIDC_CLIENT_SECRET``,
        ``..._OIDC_REDIRECT_URI``)."""
        source = os.environ if env is None else env
        values: dict[str, Any] = {}
        for name in cls.model_fields:
            raw = source.get(ENV_PREFIX + name.upper())
            if raw is None or name == "oidc":
                continue
            values[name] = [w for w in raw.split(",") if w.strip()] if name == "webhooks" else raw
        oidc = {k: source[ENV_PREFIX + "OIDC_" + k.upper()] for k in OidcSettings.model_fields
                if source.get(ENV_PREFIX + "OIDC_" + k.upper())}
        if oidc:
            values["oidc"] = oidc
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'server.db'}"

    @property
    def resolved_signing_key_path(self) -> Path:
        return self.signing_key_path or self.data_dir / "signing-key.pem"

    @property
    def resolved_base_url(self) -> str:
        return self.base_url or f"http://{self.host}:{self.port}"
