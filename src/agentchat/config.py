"""Settings: the TOML file, then the environment, then flags. Paths come from platformdirs.

Keys and endpoints are looked up in the config file first, then in each SDK's own environment
variables. Every key carries its source so the UI can say where it came from without showing it.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentchat.core.errors import ConfigError
from agentchat.providers.base import ProviderSettings

APP = "agentchat"
BUILTIN_TYPES = ("openai", "anthropic", "ollama", "local")
# provider -> (key env var, base-url env var, default base url)
ENV = {
    "openai": ("OPENAI_API_KEY", "OPENAI_BASE_URL", "https://api.openai.com/v1"),
    "anthropic": ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "https://api.anthropic.com"),
    "ollama": ("OLLAMA_API_KEY", "OLLAMA_HOST", "http://127.0.0.1:11434"),
}


def config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get("AGENTCHAT_CONFIG")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_config_dir

    return Path(user_config_dir(APP)) / "config.toml"


def data_dir() -> Path:
    env = os.environ.get("AGENTCHAT_DATA_DIR")
    if env:
        path = Path(env).expanduser()
    else:
        from platformdirs import user_data_dir

        path = Path(user_data_dir(APP))
    path.mkdir(parents=True, exist_ok=True)
    return path


@dataclass
class Config:
    path: Path
    data: dict[str, Any] = field(default_factory=dict)

    # --- simple accessors ------------------------------------------------------------------------
    def section(self, name: str) -> dict[str, Any]:
        value = self.data.get(name, {})
        if not isinstance(value, dict):
            raise ConfigError(f"{self.path}: [{name}] must be a table")
        return value

    @property
    def default_model(self) -> str | None:
        return self.data.get("default_model")

    @property
    def default_provider(self) -> str | None:
        return self.data.get("default_provider")

    @property
    def workspace(self) -> Path:
        return Path(self.data.get("workspace") or os.getcwd()).expanduser().resolve()

    def provider_names(self) -> list[str]:
        """Built-ins first in routing order, then named endpoints in file order."""
        names = ["openai", "anthropic", "ollama"]
        for name, table in self.section("providers").items():
            if name not in names and name != "local":
                _ = self.provider_type(name, table)
                names.append(name)
        return names

    def provider_type(self, name: str, table: dict[str, Any] | None = None) -> str:
        table = table if table is not None else self.section("providers").get(name, {})
        if name in BUILTIN_TYPES:
            return table.get("type", name)
        kind = table.get("type")
        if kind not in ("openai", "anthropic", "ollama"):
            raise ConfigError(f'{self.path}: providers.{name}.type must be "openai", "anthropic" or "ollama"')
        if not table.get("base_url"):
            raise ConfigError(f"{self.path}: providers.{name}.base_url is required")
        return kind

    def provider(self, name: str) -> ProviderSettings:
        """Resolve one provider's endpoint and key: config file first, then the environment."""
        table = self.section("providers").get(name)
        if table is None and name not in BUILTIN_TYPES:
            raise ConfigError(f"unknown provider {name!r}; configured: {', '.join(self.provider_names())}")
        table = table or {}
        kind = self.provider_type(name, table)
        key_env, url_env, default_url = ENV.get(name, (None, None, None))
        api_key, source = None, None
        if table.get("api_key"):
            api_key, source = str(table["api_key"]), "config"
        elif table.get("api_key_env"):
            var = str(table["api_key_env"])
            if os.environ.get(var):
                api_key, source = os.environ[var], var
        elif key_env and os.environ.get(key_env):
            api_key, source = os.environ[key_env], key_env
        base_url = table.get("base_url") or table.get("host")
        if not base_url and url_env:
            base_url = os.environ.get(url_env) or default_url
        hint_env = table.get("api_key_env") or key_env
        hint = f"providers.{name}.api_key in {self.path}"
        if hint_env:
            hint = f"{hint_env} or {hint}"
        models = table.get("models", [])
        if not isinstance(models, list):
            raise ConfigError(f"{self.path}: providers.{name}.models must be a list")
        extra = {
            k: v
            for k, v in table.items()
            if k not in {"type", "base_url", "host", "api_key", "api_key_env", "models"}
        }
        return ProviderSettings(
            name=name,
            type=kind,
            base_url=base_url,
            api_key=api_key,
            key_source=source,
            key_hint=hint,
            models=[str(m) for m in models],
            timeout_s=float(table.get("timeout", 600.0)),
            extra=extra,
        )


def load_config(explicit: str | os.PathLike[str] | None = None) -> Config:
    """Read the config file; a missing file is an empty config, a malformed one a ConfigError."""
    path = config_path(explicit)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:  # no file yet is an empty config; `keys set` creates it
        return Config(path)
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    return Config(path, data)


def write_secret_file(path: Path, text: str) -> None:
    """Write a file that may hold keys: created 0600, never briefly world-readable."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def set_provider_key(config: Config, provider: str, key: str) -> None:
    """Store a key in the config file (mode 0600), keeping the rest of the file's settings."""
    import tomli_w

    data = dict(config.data)
    providers = dict(data.get("providers", {}))
    table = dict(providers.get(provider, {}))
    table["api_key"] = key
    providers[provider] = table
    data["providers"] = providers
    write_secret_file(config.path, tomli_w.dumps(data))
    config.data = data
