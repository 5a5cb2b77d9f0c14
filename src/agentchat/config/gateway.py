"""`[gateway]`: where `agentchat ask` finds a running `agentchat serve` (the warm path), and the
token both sides use.

    [gateway]
    url = "http://127.0.0.1:8765"   # ask sends every turn here (as `ask --via URL` does)
    token = "..."                   # or AGENTCHAT_GATEWAY_TOKEN; serve requires it when set
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from agentchat.config.values import string
from agentchat.core.errors import ConfigError

TOKEN_ENV = "AGENTCHAT_GATEWAY_TOKEN"


@dataclass(frozen=True, slots=True)
class GatewaySettings:
    url: str | None = None
    token: str | None = None  # the environment's AGENTCHAT_GATEWAY_TOKEN wins over the file


def gateway_settings(table: dict[str, Any], where: str) -> GatewaySettings:
    url = string(table.get("url"), f"{where}.url")
    if url is not None and not url.startswith(("http://", "https://")):
        raise ConfigError(f"{where}.url must be an http:// or https:// URL")
    token = os.environ.get(TOKEN_ENV) or string(table.get("token"), f"{where}.token")
    return GatewaySettings(url=url or None, token=token or None)
