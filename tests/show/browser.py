"""Open an HTML file in headless Chromium, offline, and report what the page saw."""

from __future__ import annotations

import html
import json
import re
import subprocess
from pathlib import Path
from typing import Any

from tests._chromium import HEADLESS_FLAGS

# Injected first thing in <head>: records script errors, failed resource loads (capture
# phase), unhandled rejections and console.error calls; after load, writes what it saw
# and what plotly drew into the DOM, which --dump-dom prints.
HOOK = """<script>
window.__viErrors = [];
window.addEventListener('error', function (e) {
  var t = e.target;
  var what = e.message || (t && (t.src || t.href)) || 'resource failed';
  window.__viErrors.push('error: ' + what);
}, true);
window.addEventListener('unhandledrejection', function (e) {
  window.__viErrors.push('unhandled rejection: ' + e.reason);
});
(function () {
  var original = console.error;
  console.error = function () {
    window.__viErrors.push('console.error: ' + Array.prototype.join.call(arguments, ' '));
    return original.apply(console, arguments);
  };
})();
window.addEventListener('load', function () {
  setTimeout(function () {
    var plots = Array.prototype.map.call(
      document.querySelectorAll('.js-plotly-plot'),
      function (p) {
        return {
          id: p.id,
          traces: (p.data || []).length,
          svgs: p.querySelectorAll('svg.main-svg').length,
          marks: p.querySelectorAll(
            '.main-svg .trace path, .main-svg .trace rect, .main-svg image, .main-svg .point'
          ).length,
          width: p.getBoundingClientRect().width,
          height: p.getBoundingClientRect().height
        };
      });
    var pre = document.createElement('pre');
    pre.id = 'vi-test-result';
    pre.textContent = JSON.stringify({
      errors: window.__viErrors,
      plotly: typeof window.Plotly,
      plots: plots
    });
    document.body.appendChild(pre);
  }, 1000);
});
</script>"""

FLAGS = [
    *HEADLESS_FLAGS,
    # Any attempt to reach a host fails: the page must not need the network.
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--virtual-time-budget=20000",
    "--window-size=1280,2000",
]


def inspect_page(chromium: str, page: Path, profile: Path) -> dict[str, Any]:
    """Load ``page`` (a copy instrumented with HOOK) and return the hook's findings."""
    text = page.read_text(encoding="utf-8")
    instrumented = page.with_name(page.stem + ".instrumented.html")
    instrumented.write_text(text.replace("<head>", "<head>" + HOOK, 1), encoding="utf-8")
    out = subprocess.run(
        [chromium, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", instrumented.as_uri()],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    match = re.search(r'<pre id="vi-test-result">(.*?)</pre>', out.stdout, re.S)
    if match is None:
        raise AssertionError(
            f"the page never finished loading (exit {out.returncode}); stderr:\n"
            + out.stderr[-3000:]
        )
    result: dict[str, Any] = json.loads(html.unescape(match.group(1)))
    return result
