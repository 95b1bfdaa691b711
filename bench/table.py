"""The bench's Markdown tables, from the JSON result (bench/suite.py; also read by the smoke test)."""

from __future__ import annotations

SLOT_COLUMNS = ("ms per call", "store", "postings", "LLM calls", "turing s", "bare loop s", "Dagster floor s",
                "Turing's own s", "slot use turing", "slot use bare", "slot use turing/bare (nominal)", "model loads",
                "ideal s", "peak RSS MB", "Dagster event rows", "CPU s")
ORDER_COLUMNS = ("variant", "model loads", "LLM calls", "wall s", "wall/ideal", "wall/bare", "GPU busy",
                 "peak RSS MB", "CPU s")
HISTORY_COLUMNS = ("history postings", "first run, nothing pending s", "nothing pending s", "status s",
                   "new postings s (fastest of the repeats)", "its CPU s", "peak RSS MB", "LLM calls of each repeat")
BACKLOG_COLUMNS = ("backlog postings", "LLM calls", "model loads", "wall s", "peak RSS MB")
EDIT_COLUMNS = ("history", "finished postings", "plain run: calls", "plain run says stale",
                "`turing plan`: calls of the edited step", "`--stale`: calls made", "calls needed", "made/needed",
                "sent twice", "answered before", "`--stale` s", "`--stale` CPU s", "`--stale` wall, CPU / small history")


def fmt(value, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def row(cells) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def header(columns) -> list[str]:
    return [row(columns), "|" + "---|" * len(columns)]


def _load_line(result: dict) -> str:
    return (f"Machine: {result.get('cpus', '?')} CPUs, load average during the bench "
            f"{', '.join(f'{x:.1f}' for x in result['load_average'])}.")


def slots_markdown(result: dict) -> str:
    sim = result["simulator"]
    lines = ["### Slot use and Turing's own seconds (job_posting_pipeline)", "",
             f"Simulator: load {sim['load_seconds']} s, {sim['slots']} slots, one model resident. Slot use: busy "
             "slot-seconds / available slot-seconds from the first chat to the last, load time excluded; a chat is busy "
             "while the simulator holds its slot (its nominal inference seconds plus its event loop's lateness, which "
             "grows with the client's load on it), nominal: each chat counted at the configured seconds. Turing's own s: "
             "`turing run`'s wall minus the bare loop's seconds (first call to last answer) minus Dagster's floor "
             "(a fresh process materialising one partition of as many no-op assets as the workflow has conversations, "
             "in one multi-asset step as Turing's job runs them, on a fresh instance). "
             "Fastest of the rounds for SQLite, the bare loop and the floor; PostgreSQL once. " + _load_line(result),
             "", *header(SLOT_COLUMNS)]
    for s in result["slots"]:
        rows = {r["name"]: r for r in s["rows"]}
        bare, floor, ideal = rows["bare client loop"], rows["Dagster floor"], s["ideal"]
        for store in ("sqlite", "postgresql"):
            summary, turing = s.get(store), rows.get(f"turing ({store})")
            if not summary or not turing:
                continue
            lines.append(row([
                f"{s['request_seconds'] * 1000:g}", store, s["postings"], s["llm_calls"], fmt(turing["wall"]),
                fmt(bare["work"]), fmt(floor["wall"]), fmt(summary["own_seconds"]), fmt(summary["slot_use_turing"], 3),
                fmt(summary["slot_use_bare"], 3),
                f"{fmt(summary['slot_use_ratio'], 3)} ({fmt(summary.get('slot_use_nominal_ratio'), 3)})",
                f"{turing['loads']} ({ideal['loads']})",
                fmt(ideal["wall"]), fmt(turing["peak_rss_mb"], 0), turing["dagster_event_rows"], fmt(turing["cpu"]),
            ]))
    lines += ["", "Model loads: Turing's (the plan minimum in brackets). Targets at 10 ms and 900 postings: slot use "
                  ">= 0.95 of the bare loop's, Turing's own seconds <= 1.0.", ""]
    paired = [s for s in result["slots"] if s.get("paired")]
    if paired:
        lines += ["Each round on its own (SQLite: that round's Turing run beside that round's bare loop and floor, run one "
                  "after the other; the table's fastest of each side may come from different rounds):", ""]
        for s in paired:
            p = s["paired"]
            lines.append(f"- {s['request_seconds'] * 1000:g} ms: slot use turing/bare "
                         f"{', '.join(fmt(x, 3) for x in p['slot_use_ratio'])} (median {fmt(p['median_slot_use_ratio'], 3)}); "
                         f"Turing's own s {', '.join(fmt(x) for x in p['own_seconds'])} "
                         f"(median {fmt(p['median_own_seconds'])})")
        lines.append("")
    return "\n".join(lines)


def order_markdown(result: dict) -> str:
    o = result["order"]
    lines = [f"### Turing beside the orderings it replaced: {o['postings']} postings, {o['llm_calls']} LLM calls, "
             f"{o['request_seconds'] * 1000:g} ms per call", "",
             "naive loop: one posting through all its steps at a time; old grouping: rounds by conversation id; "
             "bare client loop: Turing's calls replayed; ideal: plan-minimum loads + calls x inference / slots. "
             "Wall times are whole processes, start-up included.", "", *header(ORDER_COLUMNS)]
    for r in o["rows"]:
        lines.append(row([r["name"], r.get("loads", "-"), r.get("requests", "-"), fmt(r["wall"]), fmt(r["wall_over_ideal"]),
                           fmt(r["wall_over_bare"]), fmt(r.get("gpu_busy")), fmt(r.get("peak_rss_mb"), 0), fmt(r.get("cpu"))]))
    return "\n".join(lines + [""])


def edit_markdown(result: dict) -> str:
    e = result["edit"]
    lines = [f"### Prompt edit on history: one word of {e['edited']['conversation']}'s prompt "
             f"({e['edited']['from']!r} -> {e['edited']['to']!r})", "",
             f"Small history: {e['postings']} finished postings with descriptions; large: the same and more finished "
             "postings without one, which end their route before the edited step, so both ask for the same work "
             "and the large one's `--stale` seconds beside the small one's are what the history adds. Calls needed: "
             "the requests a fresh store with the edited definitions sends for the postings with descriptions that "
             "the history never sent (counted from the simulator's log, not by Turing). Targets: made/needed 1.00, "
             "the plain run 0 calls, the large history's cost beside the small one's.", "", *header(EDIT_COLUMNS)]
    for r in e["rows"]:
        plan, stale = r["plan"], r["stale_run"]
        lines.append(row([r["history"], r["finished_postings"], r["plain_run"]["calls"],
                          "yes" if r["plain_run"]["says_stale"] else "no",
                          f"{plan['edited_step_calls']}{'' if plan['exact'] else ' (upper bound)'}", stale["calls"],
                          r["calls_needed"], fmt(r["ratio"]), r["sent_twice"], r["answered_before"], fmt(stale["wall"]),
                          fmt(stale["cpu"]), f"{fmt(stale['wall_over_small'])}, {fmt(stale['cpu_over_small'])}"]))
    lines.append("")
    for r in e["rows"]:
        per_step = ", ".join(f"{name} {v['made']}/{v['needed']}" for name, v in r["per_step"].items())
        same = "" if r["history"] == "small" else \
            f"; its history run asked {'the same requests as' if r['same_history_requests'] else 'OTHER requests than'} the small one's"
        lines.append(f"{r['history'].capitalize()} history, per step, made/needed: {per_step}. Needed but not sent: "
                     f"{r['needed_not_sent']}; sent but not needed: {r['sent_not_needed']}{same}.")
    return "\n".join(lines + [""])


def history_markdown(result: dict) -> str:
    lines = []
    hist = result.get("history")
    if hist and hist["sizes"]:
        sizes = sorted(hist["sizes"], key=int)
        lines += [f"### History: `turing run` of {hist['new']} new postings on top of finished history", "",
                  *header(HISTORY_COLUMNS)]
        for size in sizes:
            m = hist["sizes"][size]
            lines.append(row([size, fmt(m["first_idle_run"]), fmt(m["idle_run"]), fmt(m["status"]), fmt(m["new_run"]),
                               fmt(m.get("new_run_cpu")), fmt(m["new_run_rss_mb"], 0),
                               " / ".join(str(c) for c in m.get("new_run_calls", []))]))
        lo = hist["sizes"][sizes[0]]
        for size in sizes[1:]:
            hi = hist["sizes"][size]
            lines += ["", f"{hist['new']} new postings on {size} vs {sizes[0]} history: "
                          f"{hi['new_run'] / lo['new_run']:.2f}x wall (target <= 1.2x), "
                          f"{hi['new_run_cpu'] / lo['new_run_cpu']:.2f}x CPU"]
        lines.append("")
    back = result.get("backlog")
    if back and back["sizes"]:
        sizes = sorted(back["sizes"], key=int)
        lines += ["### Backlog: one `turing run` over a backlog (one range of waves of 1000)", "",
                  f"{back['content_share']:.1%} of the postings have a description and go through every LLM step; "
                  "the others end at the first step.", "",
                  *header(BACKLOG_COLUMNS)]
        for size in sizes:
            m = back["sizes"][size]
            lines.append(row([size, m["llm_calls"], m["loads"], fmt(m["wall"]), fmt(m["peak_rss_mb"], 0)]))
        lo = back["sizes"][sizes[0]]
        if len(sizes) > 1:
            ratios = ", ".join(f"{size} {back['sizes'][size]['peak_rss_mb'] / lo['peak_rss_mb']:.2f}x" for size in sizes[1:])
            lines += ["", f"peak RSS vs {sizes[0]} postings: {ratios} (target <= 1.2x)"]
        lines.append("")
    return "\n".join(lines)


def markdown(result: dict) -> str:
    parts = [slots_markdown(result) if result.get("slots") else "", order_markdown(result) if result.get("order") else "",
             edit_markdown(result) if result.get("edit") else "", history_markdown(result)]
    return "\n".join(p for p in parts if p)
