"""Cold start: `agentchat --version` and `agentchat ask --help`, fresh processes, target < 150 ms each.

Prints the median wall and CPU time of N runs of each (interleaved, next to `python -c pass`, the
interpreter's own floor), then, from one `python -X importtime` run of each, the imports that cost
the most and which heavy packages were loaded at all.

    python bench/bench_startup.py [--runs 20] [--top 12] [--agentchat CMD]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _fake import Contender, agentchat_command, base_env, measure

TARGET_S = 0.150
COMMANDS = {"--version": ["--version"], "ask --help": ["ask", "--help"]}
HEAVY = ("typer", "click", "pydantic", "rich", "textual", "openai", "anthropic", "ollama", "httpx", "sqlite3")


def import_times(argv: list[str], env: dict[str, str]) -> list[tuple[int, int, int, str]]:
    """(self us, cumulative us, depth, module) for every import of one run (PYTHONPROFILEIMPORTTIME
    is `-X importtime` for whatever python the command ends up running)."""
    proc = subprocess.run(
        argv, env={**env, "PYTHONPROFILEIMPORTTIME": "1"}, capture_output=True, text=True, check=True
    )
    rows = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own, cumulative, name = line.removeprefix("import time:").split("|")
        depth = (len(name) - len(name.lstrip()) - 1) // 2
        rows.append((int(own), int(cumulative), depth, name.strip()))
    return rows


def report_imports(label: str, rows: list[tuple[int, int, int, str]], top: int) -> None:
    total = sum(r[0] for r in rows) / 1e3
    print(f"\n{label}: {len(rows)} modules imported, {total:.0f} ms of import time")
    loaded = [h for h in HEAVY if any(r[3] == h for r in rows)]
    print(f"  heavy packages loaded: {', '.join(loaded) or 'none'}")
    print("  top-level imports by cumulative time:")
    for _, cumulative, _, name in sorted((r for r in rows if r[2] == 0), key=lambda r: -r[1])[:top]:
        print(f"    {cumulative / 1e3:7.1f} ms  {name}")
    print("  modules by own time:")
    for own, _, _, name in sorted(rows, key=lambda r: -r[0])[:top]:
        print(f"    {own / 1e3:7.1f} ms  {name}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="timed runs per command (default 20)")
    parser.add_argument("--top", type=int, default=12, help="imports to list per command")
    parser.add_argument(
        "--agentchat", help="command to run agentchat (default: the console script beside this python)"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="agentchat-bench-") as tmp:
        root = Path(tmp)
        argv, extra = agentchat_command(args.agentchat)
        env = {
            **base_env(root),
            **extra,
            "AGENTCHAT_CONFIG": str(root / "config.toml"),
            "AGENTCHAT_DATA_DIR": str(root / "data"),
        }
        floor = Contender("python -c pass", [sys.executable, "-c", "pass"], env)
        cs = [Contender(f"agentchat {label}", [*argv, *cmd], env) for label, cmd in COMMANDS.items()]
        print(f"{' '.join(argv)}: {args.runs} interleaved fresh runs each")
        measure([floor, *cs], lambda out: True, args.runs, warmup=2)

        print(f"\n{'command':<24} {'median':>8} {'min':>8} {'CPU':>8}   target < {TARGET_S * 1e3:.0f} ms")
        ok = True
        for c in [floor, *cs]:
            passed = c.median() < TARGET_S
            verdict = "" if c is floor else ("PASS" if passed else "FAIL")
            ok &= passed
            print(
                f"{c.name:<24} {c.median() * 1e3:6.0f}ms {min(c.times) * 1e3:6.0f}ms "
                f"{c.median('cpus') * 1e3:6.0f}ms   {verdict}"
            )
        for c in cs:
            report_imports(c.name, import_times(c.argv, env), args.top)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
