"""Tools from installed packages: entry points in the `agentchat.tools` group.

An entry point loads to a Tool, a list of Tools, or a zero-argument callable returning either.
A broken plugin costs one line in the report, never the session.
"""

from __future__ import annotations

import dataclasses
from importlib.metadata import entry_points

from agentchat.tools.base import Tool, describe_error

GROUP = "agentchat.tools"


def load_plugins(group: str = GROUP) -> tuple[list[Tool], dict[str, str]]:
    """(tools, errors): errors maps "distribution:entry point" to one line."""
    tools: list[Tool] = []
    errors: dict[str, str] = {}
    for ep in entry_points(group=group):
        dist = ep.dist.name if ep.dist is not None else "unknown"
        try:
            found = ep.load()
            if callable(found):
                found = found()
            if isinstance(found, Tool):
                items = [found]
            elif isinstance(found, list | tuple) and all(isinstance(item, Tool) for item in found):
                items = list(found)
            else:
                raise TypeError(f"expected a Tool or a list of Tools, got {type(found).__name__}")
        except Exception as exc:
            errors[f"{dist}:{ep.name}"] = f"{ep.value}: {describe_error(exc)}".splitlines()[0]
            continue
        # The source names the distribution, whatever the plugin put there, so users can trace it.
        tools.extend(dataclasses.replace(item, source=f"plugin:{dist}") for item in items)
    return tools, errors
