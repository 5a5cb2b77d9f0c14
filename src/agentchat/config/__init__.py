"""Settings: the TOML file, then the environment, then flags. Paths come from platformdirs.

Keys and endpoints are looked up in the config file first, then in each SDK's own environment
variables. Every key carries its source so the UI can say where it came from without showing it.
Values are type-checked where they are read: a wrong type is a ConfigError naming the file and the
key, never a crash deep inside a turn.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentchat.config.values import (
    agent_tools,
    as_table,
    bad,
    integer,
    number,
    parse_seconds,
    str_list,
    string,
)
from agentchat.core.errors import ConfigError
from agentchat.core.request import ProviderSettings

if TYPE_CHECKING:
    from agentchat.config.gateway import GatewaySettings
    from agentchat.config.mcp import MCPServerConfig
    from agentchat.config.sections import ContextSettings, ToolSettings
    from agentchat.core.caching import CachePolicy
    from agentchat.core.retry import RetryPolicy

APP = "agentchat"
BUILTIN_TYPES = ("openai", "anthropic", "ollama", "local")
# provider -> (key env var, base-url env var, default base url)
ENV = {
    "openai": ("OPENAI_API_KEY", "OPENAI_BASE_URL", "https://api.openai.com/v1"),
    "anthropic": ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "https://api.anthropic.com"),
    "ollama": ("OLLAMA_API_KEY", "OLLAMA_HOST", "http://127.0.0.1:11434"),
}
# Variables that hold keys whatever the config says; `Config.secret_env` adds each api_key_env.
SECRET_ENV = (*(key_env for key_env, _, _ in ENV.values()), "ANTHROPIC_AUTH_TOKEN")
AGENT_FIELDS = (
    "system", "model", "provider", "tools", "temperature", "max_steps", "thinking_budget", "max_output_tokens",
)  # fmt: skip
# Provider-specific settings the adapters read from `ProviderSettings.extra`, checked here.
_EXTRA_INTS = ("max_tokens", "n_ctx", "n_threads")
_EXTRA_STRS = ("model_path", "chat_format")


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
    warnings: list[str] = field(default_factory=list)  # unknown keys, for the face to show once

    # --- typed accessors ---------------------------------------------------------------------------
    def where(self, key: str) -> str:
        """How errors name a setting: the file, then the dotted key."""
        return f"{self.path}: {key}"

    def section(self, name: str) -> dict[str, Any]:
        return as_table(self.data.get(name, {}), self.where(f"[{name}]"))

    def get_str(self, key: str) -> str | None:
        """A top-level string setting, or None when it is not set."""
        return string(self.data.get(key), self.where(key))

    def get_int(self, key: str, *, minimum: int | None = None) -> int | None:
        """A top-level integer setting (at least `minimum`), or None when it is not set."""
        return integer(self.data.get(key), self.where(key), minimum)

    # --- typed views of the sections, parsed once (config/sections.py) --------------------------
    @cached_property
    def retry(self) -> RetryPolicy:
        from agentchat.config.sections import retry_policy

        return retry_policy(self.section("retry"))

    @cached_property
    def monthly_budget(self) -> float | None:
        from agentchat.config.sections import monthly_budget

        return monthly_budget(self.section("budget"))

    def rate_limit(self, provider: str) -> tuple[int | None, int | None]:
        """(requests_per_minute, tokens_per_minute) of `[rate_limits.PROVIDER]`."""
        from agentchat.config.sections import rate_limit

        return rate_limit(self.section("rate_limits"), provider)

    @property
    def has_rate_limits(self) -> bool:
        return bool(self.section("rate_limits"))

    @cached_property
    def tools(self) -> ToolSettings:
        from agentchat.config.sections import tool_settings

        return tool_settings(self.section("tools"), self.where("tools"))

    @cached_property
    def context(self) -> ContextSettings:
        from agentchat.config.sections import context_settings

        return context_settings(self.section("context"))

    @cached_property
    def caching(self) -> CachePolicy:
        """`[caching]`: prompt caching, on unless turned off (core/caching.py)."""
        from agentchat.config.sections import caching_policy

        return caching_policy(self.section("caching"))

    @cached_property
    def mcp_servers(self) -> tuple[list[MCPServerConfig], dict[str, str]]:
        """The servers, and a one-line error per malformed table (not fatal to the others)."""
        from agentchat.config.mcp import mcp_servers

        return mcp_servers(self.section("mcp_servers"))

    @cached_property
    def gateway(self) -> GatewaySettings:
        """`[gateway]`: a running `agentchat serve` for `ask` (url) and its token."""
        from agentchat.config.gateway import gateway_settings

        return gateway_settings(self.section("gateway"), self.where("gateway"))

    @property
    def pricing(self) -> dict[str, Any]:
        """`[pricing]` as written: core.pricing checks each model's entry when it prices it."""
        return self.section("pricing")

    def agent_names(self) -> list[str]:
        """The default agent first, then the configured ones in the file's order."""
        return ["default", *[n for n in self.section("agents") if n != "default"]]

    @property
    def default_model(self) -> str | None:
        return self.get_str("default_model")

    @property
    def default_provider(self) -> str | None:
        return self.get_str("default_provider")

    @property
    def max_steps(self) -> int | None:
        return self.get_int("max_steps", minimum=1)

    @property
    def workspace(self) -> Path:
        return Path(self.get_str("workspace") or os.getcwd()).expanduser().resolve()

    def failover_chain(self) -> list[tuple[str | None, str | None]]:
        """`[failover] chain` as (model, provider) pairs, the argument order of `Router.resolve`."""
        where = self.where("failover.chain")
        chain = self.section("failover").get("chain", [])
        if not isinstance(chain, list):
            raise bad(where, "a list", chain)
        entries: list[tuple[str | None, str | None]] = []
        for i, entry in enumerate(chain):
            if isinstance(entry, str):
                entries.append((entry, None))
            elif (
                isinstance(entry, dict)
                and entry
                and set(entry) <= {"model", "provider"}
                and all(isinstance(v, str) for v in entry.values())
            ):
                entries.append((entry.get("model"), entry.get("provider")))
            else:
                expected = 'a model name or a { provider = "...", model = "..." } table'
                raise bad(f"{where}[{i}]", expected, entry)
        return entries

    def agent(self, name: str) -> dict[str, Any] | None:
        """`[agents.NAME]` with every field checked, or None when the config does not define it."""
        agents = self.section("agents")
        if name not in agents:
            return None
        table = as_table(agents[name], self.where(f"[agents.{name}]"))
        unknown = set(table) - set(AGENT_FIELDS)
        if unknown:
            raise ConfigError(f"{self.path}: unknown key(s) in [agents.{name}]: {', '.join(sorted(unknown))}")
        fields: dict[str, Any] = {}
        for key, value in table.items():
            where = self.where(f"agents.{name}.{key}")
            if key == "temperature":
                fields[key] = number(value, where)
            elif key in ("max_steps", "thinking_budget", "max_output_tokens"):
                fields[key] = integer(value, where, minimum=1)
            elif key == "tools":
                fields[key] = agent_tools(value, where)
            else:
                fields[key] = string(value, where)
        return fields

    # --- providers ---------------------------------------------------------------------------------
    def provider_table(self, name: str) -> dict[str, Any]:
        """`[providers.NAME]` as written (empty when absent), checked to be a table."""
        return as_table(self.section("providers").get(name, {}), self.where(f"[providers.{name}]"))

    def provider_names(self) -> list[str]:
        """Built-ins first in routing order, then named endpoints in file order."""
        names = ["openai", "anthropic", "ollama"]
        for name in self.section("providers"):
            table = self.provider_table(name)
            if name not in names and name != "local":
                _ = self.provider_type(name, table)
                names.append(name)
        return names

    def provider_type(self, name: str, table: dict[str, Any] | None = None) -> str:
        table = table if table is not None else self.provider_table(name)
        kind = string(table.get("type"), self.where(f"providers.{name}.type"))
        if name in BUILTIN_TYPES:
            return kind or name
        if kind not in ("openai", "anthropic", "ollama"):
            raise ConfigError(f'{self.path}: providers.{name}.type must be "openai", "anthropic" or "ollama"')
        string(table.get("base_url"), self.where(f"providers.{name}.base_url"))
        return kind

    def provider(self, name: str) -> ProviderSettings:
        """Resolve one provider's endpoint and key: config file first, then the environment."""
        if name not in self.section("providers") and name not in BUILTIN_TYPES:
            known = ", ".join([*self.provider_names(), "local"])  # the embedded model is always one
            raise ConfigError(f"unknown provider {name!r}; configured: {known}")
        table = self.provider_table(name)
        kind = self.provider_type(name, table)

        def at(key: str) -> str:
            return self.where(f"providers.{name}.{key}")

        key, var = string(table.get("api_key"), at("api_key")), self.api_key_env(name)
        base_url = string(table.get("base_url"), at("base_url")) or string(table.get("host"), at("host"))
        for k in _EXTRA_INTS:
            integer(table.get(k), at(k), minimum=1)
        for k in _EXTRA_STRS:
            string(table.get(k), at(k))
        number(table.get("repeat_penalty"), at("repeat_penalty"))  # the embedded model's
        if not isinstance(table.get("enabled", True), bool):
            raise bad(at("enabled"), "true or false", table["enabled"])
        key_env, url_env, default_url = ENV.get(name, (None, None, None))
        env_var = var or key_env  # a provider's api_key_env replaces the SDK's variable
        in_file = f"providers.{name}.api_key in {self.path}"
        api_key, source = _stored_key(name, key, in_file), "config"
        command = string(table.get("api_key_cmd"), at("api_key_cmd")) or None
        if api_key is None and command:
            source = "command"  # run when the key is first needed (providers.base.resolve_key)
        elif api_key is None and env_var:
            api_key, source = _stored_key(name, os.environ.get(env_var), env_var), env_var
        if not base_url and url_env:
            base_url = os.environ.get(url_env) or default_url
        elif not base_url and kind in ENV:  # a second account: [providers.openai-work] type = "openai"
            base_url = ENV[kind][2]
        hint = f"{env_var} or {in_file}" if env_var else in_file
        extra = {
            k: v
            for k, v in table.items()
            if k not in {"type", "base_url", "host", "api_key", "api_key_env", "api_key_cmd", "models"}
        }
        return ProviderSettings(
            name=name,
            type=kind,
            base_url=base_url,
            api_key=api_key,
            key_command=command if api_key is None else None,
            key_source=source if api_key or command else None,
            key_hint=hint,
            models=list(str_list(table.get("models", []), at("models"))),
            timeout_s=parse_seconds(table.get("timeout", 600.0), at("timeout")),
            extra=extra,
        )

    def api_key_env(self, name: str) -> str | None:
        """The variable `[providers.NAME] api_key_env` names, if any."""
        return string(
            self.provider_table(name).get("api_key_env"), self.where(f"providers.{name}.api_key_env")
        )

    def secret_env(self) -> list[str]:
        """Every variable that may hold a key: the SDKs' own and each provider's api_key_env."""
        names = list(SECRET_ENV)
        for name in self.section("providers"):
            var = self.api_key_env(name)
            if var and var not in names:
                names.append(var)
        return names


def mangled(key: str) -> bool:
    """Whitespace or control characters inside a key mean a bad paste: sent as is, it fails as a
    confusing 401, or the HTTP library refuses the header and quotes it in its error text."""
    return any(ch.isspace() or not ch.isprintable() for ch in key)


def _stored_key(provider: str, raw: str | None, source: str) -> str | None:
    """A key from the config file or the environment, minus surrounding whitespace (a .env file with
    CRLF endings, a pasted newline); blank is unset. A key still mangled inside is a ConfigError
    naming the provider and where the key is, never the key: it must not be sent."""
    key = (raw or "").strip()
    if mangled(key):
        raise ConfigError(
            f"the {provider} API key in {source} contains whitespace or control characters; "
            "set it on one line, as issued"
        )
    return key or None


def parse_toml(path: Path, raw: bytes) -> dict[str, Any]:
    try:
        return tomllib.loads(raw.decode("utf-8-sig"))  # a BOM (Windows editors) is not content
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None


def read_config_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:  # no file yet is an empty config; `keys set` creates it
        return None
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc.strerror}") from None


def load_config(explicit: str | os.PathLike[str] | None = None) -> Config:
    """Read the config file; a missing file is an empty config, a malformed one a ConfigError."""
    from agentchat.config.schema import unknown_keys

    path = config_path(explicit)
    raw = read_config_bytes(path)
    data = parse_toml(path, raw) if raw is not None else {}
    return Config(path, data, unknown_keys(path, data))
