"""What every headless Chromium the tests start has in common."""

from __future__ import annotations

# machine-notes.md: flags for headless Chromium as root in a closed network.
HEADLESS_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
