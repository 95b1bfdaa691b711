"""The bare baseline: the same chat calls Turing made, replayed with the official `ollama` client and
the same concurrency, no orchestration (no Dagster, no store, no checkpoints).

The calls come from the simulator's request log of the Turing run (a JSON list); consecutive calls to
one model run as one batch over `--slots` threads, batches one after another, as Turing's steps do.

    python bench/bare_loop.py CALLS.json --host http://127.0.0.1:PORT [--slots 4]
"""

from __future__ import annotations

import argparse
import json
from concurrent.futures import ThreadPoolExecutor
from itertools import groupby

import ollama


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("calls")
    parser.add_argument("--host", required=True)
    parser.add_argument("--slots", type=int, default=4)
    args = parser.parse_args()
    with open(args.calls) as f:
        calls = json.load(f)
    client = ollama.Client(host=args.host)

    def call(body: dict) -> None:
        client.chat(model=body["model"], messages=body["messages"], format=body.get("format"),
                    options=body.get("options"), keep_alive=body.get("keep_alive"))

    with ThreadPoolExecutor(args.slots) as pool:
        for _, batch in groupby(calls, key=lambda b: b["model"]):
            list(pool.map(call, batch))
    print(f"{len(calls)} calls")


if __name__ == "__main__":
    main()
