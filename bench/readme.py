"""Regenerate the tables of bench/README.md in place from bench/results/*.json (the last step of `make bench`).

Each table sits between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`; only what is between the markers
is rewritten, and a table whose result file is missing keeps its earlier text.

    python bench/readme.py [--results bench/results] [--readme bench/README.md]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.table import fmt, header, markdown, row  # noqa: E402

ROOT = Path(__file__).resolve().parent


def model_session_md(r: dict) -> str:
    return "\n".join([*header(("requests", "slots", "load s", "inference s", "measured s", "expected s", "ratio",
                              "target", "loads", "most in flight")),
                      row([r["requests"], r["slots_per_host"], r["load_seconds_configured"], r["request_seconds_configured"],
                            fmt(r["measured_seconds"]), fmt(r["expected_seconds"]), fmt(r["ratio"], 3), r["target"],
                            sum(r["loads"].values()), max(r["max_in_flight"].values(), default=0)])])


def waves_md(r: dict) -> str:
    return "\n".join([*header(("postings", "variant", "model loads", "LLM calls", "wall s")),
                      *[row([r["postings"], name, r[key]["loads"], r[key]["requests"], fmt(r[key]["seconds"])])
                        for name, key in (("one wave", "one_wave"), ("a wave per posting", "wave_per_posting"))],
                      "", f"Loads {r['load_ratio']}x, wall time {r['time_ratio']}x fewer with one wave."])


def hosts_md(r: dict) -> str:
    one, two = r["one_host"], r["two_hosts"]
    lines = [*header(("what", "postings", "one host s", "two hosts s", "two/one", "target", "calls per host (two)",
                     "loads per host (two)")),
             row(["two steps through sessions (median pair)", r["postings"], fmt(one["wall_seconds"]), fmt(two["wall_seconds"]),
                   fmt(r["wall_ratio_two_vs_one"]), "<= 0.60", " / ".join(f"{v:.0%}" for v in two["share_per_host"].values()),
                   " / ".join(str(sum(v.values())) for v in two["loads_per_host"].values())])]
    wf = r.get("sample_workflow") or {}
    if wf:
        lines.append(row(["the sample workflow through `turing run`'s path", wf["postings"], fmt(wf["one_host"]["wall_seconds"]),
                           fmt(wf["two_hosts"]["wall_seconds"]), fmt(wf["wall_ratio_two_vs_one"]), "-",
                           " / ".join(f"{v:.0%}" for v in wf["two_hosts"]["share_per_host"].values()),
                           " / ".join(str(v) for v in wf["two_hosts"]["loads_per_host"].values())]))
    return "\n".join(lines + ["", f"All pairs' ratios: {', '.join(f'{x:.3f}' for x in r['ratios_of_all_pairs'])}."])


def overhead_md(rows: list) -> str:
    from bench.overhead import fit

    lines = [*header(("store", "postings", "calls", "round", "turing s", "bare s", "wall/bare", "turing CPU s", "bare CPU s"))]
    lines += [row([r["store"], r["postings"], r["calls"], r["round"], fmt(r["wall"]), fmt(r["bare_wall"]), fmt(r["wall_over_bare"]),
                    fmt(r["cpu"]), fmt(r["bare_cpu"])]) for r in rows]
    for store in sorted({r["store"] for r in rows}):
        fixed, per_call = fit([(r["calls"], r["cpu"] - r["bare_cpu"]) for r in rows if r["store"] == store])
        lines += ["", f"{store}: CPU over the bare loop = {fixed:.2f} s fixed + {per_call * 1000:.2f} ms per call."]
    return "\n".join(lines)


def _sampled(w: dict) -> str:
    return " / ".join(f"{fmt(w['threads'].get(name, {}).get('sampled_seconds'))}" for name in THREADS)


THREADS = ("conversations", "main")


def boundaries_md(r: dict) -> str:
    t = r["total"]
    n = max(1, t["boundaries"])
    lines = [f"`turing run` of {r['postings']} postings in waves of {r['wave_size']}, {r['request_seconds'] * 1000:g} ms "
             f"per call, {r['load_seconds']} s per model load: {r['wall']:.2f} s; {t['boundaries']} boundaries between "
             f"LLM steps, {t['seconds']:.2f} s in all ({t['seconds'] / n:.2f} s each, {t['seconds'] / r['wall']:.0%} of "
             f"the run). Load average {', '.join(f'{x:.1f}' for x in r['load_average'])}.", "",
             "Each boundary (from one LLM step's last answer to the next one's first request; the Python steps between "
             "are part of it), with the seconds sampled in each thread:", "",
             *header(("boundary", "s", "sampled s: conversations / main thread"))]
    lines += [row([w["name"], fmt(w["seconds"]), _sampled(w)]) for w in r["windows"]]
    for w in r["windows"]:
        if not w["boundary"]:
            main = w["threads"].get("main", {"phases": {}})
            phases = ", ".join(f"{name} {sec:.2f} s" for name, sec in list(main["phases"].items())[:5])
            shown = list(w["spans"])[:4] + \
                [k for k in list(w["spans"])[4:] if k.startswith("spawn")]  # the compute-log capture's processes
            spans = ", ".join(f"{name} {w['spans'][name]['count']}x {w['spans'][name]['seconds']:.2f} s" for name in shown)
            lines += ["", f"{w['name']} (main thread): {phases}; spans: {spans or 'none'}."]
    for thread in THREADS:
        mine = t["threads"].get(thread)
        if not mine:
            continue
        total = t["seconds"] or 1
        what = ("the critical path: the next conversation starts when this thread reaches its first request"
                if thread == "conversations" else "recording the finished conversation, alongside")
        lines += ["", f"Where the boundaries' time goes in the {thread} thread ({what}), summed over them, as a share "
                      "of the boundaries' seconds (stack samples):", "", *header(("phase", "s", "share"))]
        lines += [row([name, fmt(s), f"{s / total:.0%}"]) for name, s in mine["phases"].items() if s >= 0.005]
        lines += ["", *header(("what the thread was doing", "s", "share"))]
        lines += [row([name, fmt(s), f"{s / total:.0%}"]) for name, s in mine["kinds"].items() if s >= 0.005]
    lines += ["", "Exact spans inside the boundaries (Dagster events stored, HTTP requests, processes spawned; "
                  "the thread in brackets):", "", *header(("span", "count", "s", "ms each"))]
    lines += [row([name, v["count"], fmt(v["seconds"]), fmt(1000 * v["seconds"] / v["count"], 1)])
              for name, v in t["spans"].items() if v["seconds"] >= 0.005]
    return "\n".join(lines)


SECTIONS: dict[str, tuple[str, Callable]] = {
    "model_session": ("model_session.json", model_session_md),
    "waves": ("waves.json", waves_md),
    "hosts": ("hosts.json", hosts_md),
    "suite": ("bench.json", markdown),
    "overhead": ("overhead.json", overhead_md),
    "boundaries": ("boundaries.json", boundaries_md),
}


def update(readme: Path, results: Path) -> list[str]:
    """Rewrite every section whose result exists; returns the names rewritten."""
    text, done = readme.read_text(), []
    for name, (file, render) in SECTIONS.items():
        path = results / file
        pattern = re.compile(rf"(<!-- bench:{name} -->\n).*?(<!-- /bench:{name} -->)", re.DOTALL)
        if not path.exists() or not pattern.search(text):
            continue
        body = render(json.loads(path.read_text())).strip() + "\n"
        text = pattern.sub(lambda m, b=body: m.group(1) + b + m.group(2), text)
        done.append(name)
    readme.write_text(text)
    return done


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=ROOT / "results")
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md")
    args = parser.parse_args(argv)
    done = update(args.readme, args.results)
    print(f"{args.readme}: regenerated {', '.join(done) or 'nothing'}")


if __name__ == "__main__":
    main()
