"""The bare baseline: the same chat calls Turing made, replayed with the official `ollama` client and
the same concurrency, no orchestration (no Dagster, no store, no checkpoints).

The calls come from the simulator's request log of the Turing run (a JSON list, in the order the server
received them). Consecutive calls to one model run as one batch over `--slots` threads, batches one after
another, as Turing's steps do. A call that continues an earlier one's chat (a second turn, a re-ask: its
messages are the earlier call's plus an answer and a new user message) waits for that call, as any client
must; the chats of a batch are handed to the threads in the order their first calls arrived.

It prints one JSON line: the calls made and `seconds`, from its first call to its last answer (the
interpreter's start-up and imports excluded: `bench/floor.py` counts a process's start-up once).

    python bench/bare_loop.py CALLS.json --host http://127.0.0.1:PORT [--slots 4]
"""

from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ThreadPoolExecutor
from itertools import groupby

import ollama


def _key(model: str, messages: list[dict]) -> str:
    return json.dumps([model, messages], sort_keys=True)


def chats(calls: list[dict]) -> list[list[dict]]:
    """The calls grouped into chats: each call after the one whose messages it extends."""
    chains: list[list[dict]] = []
    by_key: dict[str, list[dict]] = {}
    for body in calls:
        messages = body["messages"]
        parent = by_key.get(_key(body["model"], messages[:-2])) if len(messages) > 2 else None
        chain = parent if parent is not None else []
        if parent is None:
            chains.append(chain)
        chain.append(body)
        by_key[_key(body["model"], messages)] = chain
    return chains


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("calls")
    parser.add_argument("--host", required=True)
    parser.add_argument("--slots", type=int, default=4)
    args = parser.parse_args()
    with open(args.calls) as f:
        calls = json.load(f)
    client = ollama.Client(host=args.host)

    def run_chat(chain: list[dict]) -> int:
        for body in chain:
            client.chat(model=body["model"], messages=body["messages"], format=body.get("format"),
                        options=body.get("options"), keep_alive=body.get("keep_alive"))
        return len(chain)

    made = 0
    started = time.perf_counter()
    with ThreadPoolExecutor(args.slots) as pool:
        for _, batch in groupby(calls, key=lambda b: b["model"]):
            made += sum(pool.map(run_chat, chats(list(batch))))
    print(json.dumps({"calls": made, "seconds": time.perf_counter() - started}))


if __name__ == "__main__":
    main()
