"""Settings: the TOML file, then the environment, then flags. Paths come from platformdirs.

Keys and endpoints are looked up in the config file first, then in each SDK's own environment
variables. Every key carries its source so the UI can say where it came from without showing it.
Values are type-checked where they are read: a wrong type is a ConfigError naming the file and the
key, never a crash deep inside a turn.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentchat.core.errors import ConfigError, UsageError
from agentchat.core.request import POLICIES, Policy, ProviderSettings

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
AGENT_FIELDS = ("system", "model", "provider", "tools", "temperature", "max_steps", "thinking_budget")
_TOML_TYPES = {bool: "a boolean", str: "a string", list: "an array", dict: "a table"}
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


# --- value checks: `where` is "FILE: key"; a string's value is never shown (it may be a key) ----------
def parse_policy(value: Any, where: str) -> Policy:
    if value not in POLICIES:
        raise ConfigError(f'{where} must be "allow", "ask" or "deny", not {value!r}')
    return value  # type: ignore[no-any-return]  # checked against POLICIES above


def parse_seconds(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"{where} must be a positive number of seconds")
    return float(value)


def _bad(where: str, expected: str, value: Any) -> ConfigError:
    if isinstance(value, int | float) and not isinstance(value, bool):
        got = repr(value)
    else:
        got = _TOML_TYPES.get(type(value), "a date/time")
    return ConfigError(f"{where} must be {expected}, not {got}")


def _table(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _bad(where, "a table", value)
    return value


def _str(value: Any, where: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise _bad(where, "a string", value)
    return value


def _int(value: Any, where: str, minimum: int | None = None) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or (minimum is not None and value < minimum):
        raise _bad(where, "an integer" + (f" >= {minimum}" if minimum is not None else ""), value)
    return value


def _number(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _bad(where, "a number", value)
    return float(value)


def _str_list(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _bad(where, "a list of strings", value)
    return value


def _agent_tools(value: Any, where: str) -> list[str] | dict[str, str]:
    if isinstance(value, dict):
        return {name: parse_policy(policy, f"{where}.{name}") for name, policy in value.items()}
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    raise _bad(where, 'a list of tool names or a table of tool name = "allow" | "ask" | "deny"', value)


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
        return _table(self.data.get(name, {}), self.where(f"[{name}]"))

    def get_str(self, key: str) -> str | None:
        """A top-level string setting, or None when it is not set."""
        return _str(self.data.get(key), self.where(key))

    def get_int(self, key: str, *, minimum: int | None = None) -> int | None:
        """A top-level integer setting (at least `minimum`), or None when it is not set."""
        return _int(self.data.get(key), self.where(key), minimum)

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
            raise _bad(where, "a list", chain)
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
                raise _bad(f"{where}[{i}]", expected, entry)
        return entries

    def agent(self, name: str) -> dict[str, Any] | None:
        """`[agents.NAME]` with every field checked, or None when the config does not define it."""
        agents = self.section("agents")
        if name not in agents:
            return None
        table = _table(agents[name], self.where(f"[agents.{name}]"))
        unknown = set(table) - set(AGENT_FIELDS)
        if unknown:
            raise ConfigError(f"{self.path}: unknown key(s) in [agents.{name}]: {', '.join(sorted(unknown))}")
        fields: dict[str, Any] = {}
        for key, value in table.items():
            where = self.where(f"agents.{name}.{key}")
            if key == "temperature":
                fields[key] = _number(value, where)
            elif key in ("max_steps", "thinking_budget"):
                fields[key] = _int(value, where, minimum=1)
            elif key == "tools":
                fields[key] = _agent_tools(value, where)
            else:
                fields[key] = _str(value, where)
        return fields

    # --- providers ---------------------------------------------------------------------------------
    def provider_table(self, name: str) -> dict[str, Any]:
        """`[providers.NAME]` as written (empty when absent), checked to be a table."""
        return _table(self.section("providers").get(name, {}), self.where(f"[providers.{name}]"))

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
        kind = _str(table.get("type"), self.where(f"providers.{name}.type"))
        if name in BUILTIN_TYPES:
            return kind or name
        if kind not in ("openai", "anthropic", "ollama"):
            raise ConfigError(f'{self.path}: providers.{name}.type must be "openai", "anthropic" or "ollama"')
        _str(table.get("base_url"), self.where(f"providers.{name}.base_url"))
        return kind

    def provider(self, name: str) -> ProviderSettings:
        """Resolve one provider's endpoint and key: config file first, then the environment."""
        if name not in self.section("providers") and name not in BUILTIN_TYPES:
            raise ConfigError(f"unknown provider {name!r}; configured: {', '.join(self.provider_names())}")
        table = self.provider_table(name)
        kind = self.provider_type(name, table)

        def at(key: str) -> str:
            return self.where(f"providers.{name}.{key}")

        key, var = _str(table.get("api_key"), at("api_key")), self.api_key_env(name)
        base_url = _str(table.get("base_url"), at("base_url")) or _str(table.get("host"), at("host"))
        for k in _EXTRA_INTS:
            _int(table.get(k), at(k), minimum=1)
        for k in _EXTRA_STRS:
            _str(table.get(k), at(k))
        if not isinstance(table.get("enabled", True), bool):
            raise _bad(at("enabled"), "true or false", table["enabled"])
        key_env, url_env, default_url = ENV.get(name, (None, None, None))
        env_var = var or key_env  # a provider's api_key_env replaces the SDK's variable
        in_file = f"providers.{name}.api_key in {self.path}"
        api_key, source = _stored_key(name, key, in_file), "config"
        command = _str(table.get("api_key_cmd"), at("api_key_cmd")) or None
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
            models=list(_str_list(table.get("models", []), at("models"))),
            timeout_s=parse_seconds(table.get("timeout", 600.0), at("timeout")),
            extra=extra,
        )

    def api_key_env(self, name: str) -> str | None:
        """The variable `[providers.NAME] api_key_env` names, if any."""
        return _str(self.provider_table(name).get("api_key_env"), self.where(f"providers.{name}.api_key_env"))

    def secret_env(self) -> list[str]:
        """Every variable that may hold a key: the SDKs' own and each provider's api_key_env."""
        names = list(SECRET_ENV)
        for name in self.section("providers"):
            var = self.api_key_env(name)
            if var and var not in names:
                names.append(var)
        return names


def _parse(path: Path, raw: bytes) -> dict[str, Any]:
    try:
        return tomllib.loads(raw.decode("utf-8-sig"))  # a BOM (Windows editors) is not content
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:  # no file yet is an empty config; `keys set` creates it
        return None
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc.strerror}") from None


def load_config(explicit: str | os.PathLike[str] | None = None) -> Config:
    """Read the config file; a missing file is an empty config, a malformed one a ConfigError."""
    from agentchat.config_keys import unknown_keys

    path = config_path(explicit)
    raw = _read(path)
    data = _parse(path, raw) if raw is not None else {}
    return Config(path, data, unknown_keys(path, data))


def write_secret_file(path: Path, text: str) -> None:
    """Write a file that may hold keys: created 0600, never briefly world-readable. A symlinked
    config (dotfiles kept in a repository) is written through the link, which stays a link."""
    if path.is_symlink():
        path = path.resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


# --- `keys set`: edit the file's text so the user's comments and layout survive -------------------
_TABLE_HEADER = re.compile(r"\s*\[")
_API_KEY_LINE = re.compile(r"(\s*)(?:api_key|\"api_key\"|'api_key')\s*=(.*)")


def _mangled(key: str) -> bool:
    """Whitespace or control characters inside a key mean a bad paste: sent as is, it fails as a
    confusing 401, or the HTTP library refuses the header and quotes it in its error text."""
    return any(ch.isspace() or not ch.isprintable() for ch in key)


def clean_api_key(raw: str) -> str:
    """The key as typed or piped, minus one trailing newline; a mangled key is refused."""
    key = raw.removesuffix("\n").removesuffix("\r")
    if not key:
        raise UsageError("no key given")
    if _mangled(key):
        raise UsageError("the key contains whitespace or control characters; give it on one line, as issued")
    return key


def _stored_key(provider: str, raw: str | None, source: str) -> str | None:
    """A key from the config file or the environment, minus surrounding whitespace (a .env file with
    CRLF endings, a pasted newline); blank is unset. A key still mangled inside is a ConfigError
    naming the provider and where the key is, never the key: it must not be sent."""
    key = (raw or "").strip()
    if _mangled(key):
        raise ConfigError(
            f"the {provider} API key in {source} contains whitespace or control characters; "
            "set it on one line, as issued"
        )
    return key or None


def _toml_string(value: str) -> str:
    """A TOML basic string: backslash, quote and control characters escaped."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + re.sub(r"[\x00-\x1f\x7f]", lambda m: f"\\u{ord(m.group()):04x}", escaped) + '"'


def _toml_key(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else _toml_string(name)


def _trailing_comment(rest: str) -> str:
    """The comment after a value (`= "old"  # work key`), found where the text before it parses."""
    for match in re.finditer("#", rest):
        try:
            tomllib.loads("v =" + rest[: match.start()])
        except tomllib.TOMLDecodeError:
            continue
        return rest[len(rest[: match.start()].rstrip()) :]
    return ""


def _with_api_key(text: str, provider: str, key: str) -> str:
    """`text` with `api_key` set in [providers.NAME]: the line replaced, else added under the
    header, else a new table appended. Lines keep their own endings (CRLF files stay CRLF)."""
    entry = f"api_key = {_toml_string(key)}"
    name = re.escape(provider)
    header = re.compile(rf"\s*\[\s*providers\s*\.\s*(?:{name}|\"{name}\"|'{name}')\s*\]\s*(?:#.*)?")
    lines = text.split("\n")
    start = next((i for i, line in enumerate(lines) if header.fullmatch(line.removesuffix("\r"))), None)
    if start is None:
        nl = "\r\n" if "\r\n" in text else "\n"
        head = text.rstrip("\r\n")
        return (head + nl * 2 if head.strip() else "") + f"[providers.{_toml_key(provider)}]{nl}{entry}{nl}"
    cr = "\r" if lines[start].endswith("\r") else ""
    for i in range(start + 1, len(lines)):
        if _TABLE_HEADER.match(lines[i]):
            break
        found = _API_KEY_LINE.fullmatch(lines[i].removesuffix("\r"))
        if found:
            indent, rest = found.groups()
            end = "\r" if lines[i].endswith("\r") else ""
            lines[i] = f"{indent}{entry}{_trailing_comment(rest)}{end}"
            return "\n".join(lines)
    lines.insert(start + 1, entry + cr)
    return "\n".join(lines)


def set_provider_key(config: Config, provider: str, key: str) -> None:
    """Store a key in the config file (mode 0600) by editing its text: comments and layout survive.

    The edit is checked by parsing the result: it must equal the old settings plus this one key,
    else the file is left alone (an inline `providers.NAME = { ... }` cannot be edited line-wise).
    """
    raw = _read(config.path)
    expected = _parse(config.path, raw) if raw is not None else {}  # also proves the text is UTF-8
    text = raw.decode("utf-8-sig") if raw is not None else ""
    Config(config.path, expected).provider_table(provider)  # a non-table there is a ConfigError
    expected.setdefault("providers", {}).setdefault(provider, {})["api_key"] = key
    edited = _with_api_key(text, provider, key)
    try:
        result = tomllib.loads(edited)
    except tomllib.TOMLDecodeError:
        result = None
    if result != expected:
        raise ConfigError(
            f"{config.path}: cannot add the key to [providers.{provider}] automatically; "
            f'add api_key = "..." under [providers.{provider}] by hand'
        )
    write_secret_file(config.path, edited)
    config.data = result
