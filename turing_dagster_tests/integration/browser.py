"""Headless Chromium driven over the DevTools protocol: open a page, wait for what a person would wait
for, click, and photograph. Only what the UI tests need; the websocket client is `websockets`."""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

from websockets.sync.client import connect


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Page(contextlib.AbstractContextManager):
    """One browser tab; `evaluate` runs JavaScript in it and returns the value."""

    def __init__(self, chromium: str, profile: Path, width: int = 1600, height: int = 1000):
        port = _free_port()
        self._proc = subprocess.Popen(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}", f"--window-size={width},{height}",
             f"--remote-debugging-port={port}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        self._stack = contextlib.ExitStack()
        self._stack.callback(self._stop)
        self._ids = itertools.count(1)
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=1) as answer:
                    tab = next(t for t in json.load(answer) if t["type"] == "page")
                break
            except (OSError, StopIteration):
                if time.monotonic() > deadline or self._proc.poll() is not None:
                    self._stack.close()
                    raise RuntimeError("Chromium did not open its DevTools port in 30 s") from None
                time.sleep(0.1)
        self._ws = self._stack.enter_context(connect(tab["webSocketDebuggerUrl"], max_size=None))
        self.call("Page.enable")
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1,
                  mobile=False)

    def _stop(self) -> None:
        self._proc.terminate()
        try:
            self._proc.wait(10)
        except subprocess.TimeoutExpired:
            self._proc.kill()

    def __exit__(self, *exc) -> None:
        self._stack.close()

    def call(self, method: str, **params) -> dict:
        ident = next(self._ids)
        self._ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:  # events arrive in between; only our answer counts
            message = json.loads(self._ws.recv(timeout=60))
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def open(self, url: str) -> None:
        self.call("Page.navigate", url=url)

    def evaluate(self, script: str):
        result = self.call("Runtime.evaluate", expression=script, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"].get("text", "script failed"))
        return result.get("result", {}).get("value")

    def wait_for(self, script: str, timeout: float = 60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(script)
            if value:
                return value
            time.sleep(0.25)
        raise TimeoutError(f"not true within {timeout:.0f} s: {script}")

    def screenshot(self, path: Path) -> Path:
        """Photograph the tab once its CSS transitions are over (a dialog fades in; mid-fade it is see-through)."""
        self.wait_for("""document.getAnimations().every(a => a.playState !== 'running' && !a.pending
                      || a.effect?.getTiming().iterations === Infinity)""")  # a spinner never ends
        self.evaluate("new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() => done(true))))")
        path.write_bytes(base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"]))
        return path
