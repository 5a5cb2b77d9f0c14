"""`agentchat ask --schema` end to end: what validated JSON costs over a plain answer, beside `llm --schema`.

Each run is a fresh process asking the loopback OpenAI fake (in this process, on a thread), which
answers every request with the same small JSON object: agentchat without a schema (the baseline),
agentchat with `--schema 'name str, age int'` (the schema parsed, sent as response_format, the reply
validated with jsonschema, stored with the messages) and `llm --schema 'name str, age int'` from PyPI
when installed. Rounds are interleaved; medians are compared. No target in the issue: the numbers
say what the check costs.

    python bench/bench_schema.py [--runs 15] [--llm PATH]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _fake import MODEL, PROMPT, Contender, contenders, measure, print_table, ratio_line

SCHEMA = "name str, age int"
ANSWER = {"name": "Ada Lovelace", "age": 36}


def main() -> int:
    from tests.fakes.base import Reply
    from tests.fakes.openai_fake import OpenAIFake, text

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--agentchat", help="command to run agentchat")
    parser.add_argument("--llm", help="the llm executable (default: `llm` on PATH)")
    args = parser.parse_args()
    body = json.dumps(ANSWER)
    reply = text([body[:12], body[12:]], model=MODEL)

    class Fake(OpenAIFake):
        def unscripted(self) -> Reply:
            return reply

    with Fake() as fake, contenders(fake.base_url, agentchat=args.agentchat, llm=args.llm) as found:
        by_name = {c.name: c for c in found}
        plain = by_name["agentchat"]
        schema = Contender("agentchat --schema", [*plain.argv[:-1], "--schema", SCHEMA, PROMPT], plain.env)
        runs = [plain, schema]
        if "llm" in by_name:
            llm = by_name["llm"]
            models = Path(llm.env["LLM_USER_PATH"]) / "extra-openai-models.yaml"
            models.write_text(models.read_text() + "  supports_schema: true\n")  # llm asks it of a model
            runs.append(Contender("llm --schema", [*llm.argv[:-1], "--schema", SCHEMA, PROMPT], llm.env))
        print(f"fake server {fake.base_url}; {args.runs} interleaved runs each")
        for c in runs:
            print(f"  {c.name:<20} {' '.join(c.argv)}")
        measure(runs, lambda out: json.loads(out) == ANSWER, args.runs, args.warmup)
    print_table(runs)
    print()
    print(ratio_line("--schema / plain wall", schema.median() / plain.median(), ""))
    print(f"--schema costs {(schema.median() - plain.median()) * 1e3:+.0f} ms wall per ask (median)")
    if len(runs) == 3:
        print(ratio_line("agentchat / llm --schema", schema.median() / runs[2].median(), ""))
    else:
        print("llm not found (pass --llm PATH): not compared")
    return 0


if __name__ == "__main__":
    sys.exit(main())
