"""The bench's Markdown tables, from the JSON result (also used by the smoke test)."""

from __future__ import annotations

COLUMNS = ("variant", "model loads", "wall s", "wall/ideal", "wall/bare", "checkpoint rows/s", "GPU busy",
           "peak RSS MB", "Dagster event rows", "CPU s")


def _f(value, digits: int = 2, suffix: str = "") -> str:
    return "-" if value is None else f"{value:.{digits}f}{suffix}"


def side_by_side_markdown(result: dict) -> str:
    s = result["side_by_side"]
    sim = result["simulator"]
    lines = [
        f"### Side by side: {s['postings']} postings, {s['llm_calls']} LLM calls, job_posting_pipeline",
        "",
        f"Simulator: load {sim['load_seconds']} s, inference {sim['request_seconds']} s per call, "
        f"{sim['slots']} slots, one model resident.",
        f"Load average of the machine during the bench: {', '.join(f'{x:.1f}' for x in result['load_average'])} "
        "(CPU s: the child's own user + system time, steadier than wall time on a shared machine).",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    for r in s["rows"]:
        lines.append("| " + " | ".join([
            r["name"], str(r.get("loads", "-")), _f(r["wall"]), _f(r["wall_over_ideal"]), _f(r["wall_over_bare"]),
            _f(r.get("checkpoint_rows_per_s"), 0), _f(r.get("gpu_busy")), _f(r.get("peak_rss_mb"), 0),
            "-" if r.get("dagster_event_rows") is None else str(r["dagster_event_rows"]),
            _f(r.get("cpu")),
        ]) + " |")
    lines += [""] + [f"Note: {n}" for n in s["notes"]]
    return "\n".join(lines) + "\n"


def history_markdown(result: dict) -> str:
    lines = []
    hist = result.get("history")
    if hist and hist["sizes"]:
        sizes = sorted(hist["sizes"], key=int)
        lines += ["### History: `turing run` of new postings on top of finished history", "",
                  "| history postings | first run, nothing pending s | nothing pending s | status s | "
                  f"{hist['new']} new postings s (fastest of the repeats) | its CPU s | peak RSS MB |", "|---|---|---|---|---|---|---|"]
        for size in sizes:
            m = hist["sizes"][size]
            lines.append(f"| {size} | {_f(m['first_idle_run'])} | {_f(m['idle_run'])} | {_f(m['status'])} | "
                         f"{_f(m['new_run'])} | {_f(m.get('new_run_cpu'))} | {_f(m['new_run_rss_mb'], 0)} |")
        if len(sizes) > 1:
            lo, hi = hist["sizes"][sizes[0]], hist["sizes"][sizes[-1]]
            lines += ["", f"{hist['new']} new postings on {sizes[-1]} vs {sizes[0]} history: "
                          f"{hi['new_run'] / lo['new_run']:.2f}x wall (target <= 1.2x), "
                          f"{hi['new_run_cpu'] / lo['new_run_cpu']:.2f}x CPU"]
        lines.append("")
    back = result.get("backlog")
    if back and back["sizes"]:
        sizes = sorted(back["sizes"], key=int)
        lines += ["### Backlog: one `turing run` over a backlog (one range of waves of 1000)", "",
                  f"{back['content_share']:.1%} of the postings have a description and go through every LLM step; "
                  "the others end at the first step.", "",
                  "| backlog postings | LLM calls | model loads | wall s | peak RSS MB |", "|---|---|---|---|---|"]
        for size in sizes:
            m = back["sizes"][size]
            lines.append(f"| {size} | {m['llm_calls']} | {m['loads']} | {_f(m['wall'])} | {_f(m['peak_rss_mb'], 0)} |")
        if len(sizes) > 1:
            lo, hi = back["sizes"][sizes[0]], back["sizes"][sizes[-1]]
            lines += ["", f"peak RSS {sizes[-1]} vs {sizes[0]}: {hi['peak_rss_mb'] / lo['peak_rss_mb']:.2f}x "
                          f"(target <= 1.2x); largest {hi['peak_rss_mb']:.0f} MB (target < 500 MB at 100k)"]
        lines.append("")
    return "\n".join(lines)
