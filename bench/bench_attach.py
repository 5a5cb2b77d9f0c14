"""The cost of attaching: a 10 MB directory of text files and a 20-page PDF (both generated here).

Each case runs in a fresh process (so its peak RSS is its own) through the code `ask -f` runs:
intake (read, check, hash), storing the user message with its blobs in a new SQLite history, then
building the request bodies (the blobs read back; the PDF natively for Anthropic and as extracted
text for a model without PDF input, as Ollama gets it). Time per phase, the Python heap's peak
(tracemalloc) and the process's peak RSS are printed. No peer does the same work to compare with.

    python bench/bench_attach.py [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

WORDS = "the quick brown fox jumps over a lazy dog while seven wizards quietly judge boxing matches".split()


def make_directory(top: Path, total: int = 10_000_000, per_file: int = 20_000) -> None:
    """~10 MB of source-like text in 500 files over a few subdirectories, plus what a directory
    also holds and attaching skips: a .gitignore'd build directory and a few binaries."""
    (top / ".git").mkdir(parents=True)
    (top / ".gitignore").write_text("build/\n*.o\n")
    line = " ".join(WORDS) + "\n"
    body = (line * (per_file // len(line) + 1))[:per_file]
    for i in range(total // per_file):
        sub = top / f"pkg{i % 10}"
        sub.mkdir(exist_ok=True)
        (sub / f"module_{i}.py").write_text(body)
    (top / "build").mkdir()
    (top / "build" / "out.txt").write_text(body)
    for i in range(5):
        (top / f"blob{i}.o").write_bytes(bytes(range(256)) * 40)


def make_pdf_file(path: Path, pages: int = 20) -> None:
    from tests.attach_files import make_pdf

    text = " ".join(WORDS * 30)  # ~2,700 characters a page
    path.write_bytes(make_pdf([f"Page {n}. {text}" for n in range(1, pages + 1)]))


def run_case(case: str, trace: bool) -> dict[str, float]:
    """One pass; with `trace` the Python heap is traced (which slows it: its times are not used)."""
    from agentchat.core.attachments import fit_history
    from agentchat.core.capabilities import Capabilities
    from agentchat.core.intake import Limits, read_inputs
    from agentchat.core.messages import Message
    from agentchat.core.store import Store
    from agentchat.providers import anthropic, openai

    work = Path(tempfile.mkdtemp(prefix="bench-attach-"))
    source = work / ("tree" if case == "dir" else "paper.pdf")
    make_directory(source) if case == "dir" else make_pdf_file(source)
    limits = Limits(max_dir_bytes=16 * 1024 * 1024, max_dir_files=1000)
    out: dict[str, float] = {}
    if trace:
        tracemalloc.start()
    t0 = time.perf_counter()
    intake = read_inputs([str(source)], limits)
    t1 = time.perf_counter()
    with Store(work / "history.db") as store:
        conv = store.create_conversation()
        leaf = store.add_message(conv, Message.user("Summarise this.", intake.parts))
        t2 = time.perf_counter()
        history = store.thread(leaf)
        store.load_attachments(history)
        body = anthropic.to_wire_messages(None, history)
        if case == "pdf":  # and for a model without PDF input: the text, extracted once and kept
            text_only, _ = fit_history(history, Capabilities(), "llama3.2", store.set_extracted_text)
            openai.to_wire_messages(None, text_only)
        else:
            openai.to_wire_messages(None, history)
        t3 = time.perf_counter()
    peak = tracemalloc.get_traced_memory()[1] if trace else 0
    tracemalloc.stop()
    out.update(
        files=len(intake.parts),
        bytes=intake.size,
        intake_s=t1 - t0,
        store_s=t2 - t1,
        request_s=t3 - t2,
        total_s=t3 - t0,
        heap_peak_mb=peak / 1e6,
        rss_peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        wire_mb=len(json.dumps(body)) / 1e6,
    )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--case", choices=["dir", "pdf"], help=argparse.SUPPRESS)  # a child run
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case, args.trace)))
        return 0
    print(f"{'case':<24}{'files':>6}{'MB':>7}{'intake s':>10}{'store s':>9}{'request s':>11}"
          f"{'total s':>9}{'heap MB':>9}{'RSS MB':>8}")  # fmt: skip
    for case, label in (("dir", "10 MB directory"), ("pdf", "20-page PDF")):

        def child(case: str, *flags: str) -> dict[str, float]:
            done = subprocess.run(
                [sys.executable, __file__, "--case", case, *flags], capture_output=True, text=True, check=True
            )
            return dict(json.loads(done.stdout))

        best = min((child(case) for _ in range(args.runs)), key=lambda r: r["total_s"])  # least disturbed
        best["heap_peak_mb"] = child(case, "--trace")["heap_peak_mb"]
        print(
            f"{label:<24}{best['files']:>6.0f}{best['bytes'] / 1e6:>7.1f}{best['intake_s']:>10.3f}"
            f"{best['store_s']:>9.3f}{best['request_s']:>11.3f}{best['total_s']:>9.3f}"
            f"{best['heap_peak_mb']:>9.1f}{best['rss_peak_mb']:>8.0f}"
        )
    print(
        f"best of {args.runs} fresh processes (heap: one more, traced); times include importing Pillow/pypdf/"
    )
    print("pathspec on first use; request = blobs read back + the Anthropic and OpenAI bodies")
    print("(the PDF's request includes extracting its text once for a model without PDF input)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
