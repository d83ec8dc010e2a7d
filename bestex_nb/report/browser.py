"""Open frozen HTML reports in headless Chromium, offline: DOM dumps and screenshots.

Used by tests/browser and by developers to look at a report without a display::

    python -c "from bestex_nb.report.browser import screenshot; screenshot('report.html', 'report.png')"

Chromium runs inside ``unshare -n`` (a network namespace with no interfaces up) when that works here,
so a report that still needed the network would show it; otherwise the flags below keep Chromium from
making background connections. See shared/notes/stack-check.md sections 3 and 5.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--no-first-run",
    "--no-default-browser-check",
    "--mute-audio",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
)

#: Virtual time Chromium lets the page run before dumping or screenshotting (ms).
VIRTUAL_TIME_BUDGET_MS = 15000
TIMEOUT_S = 120


class BrowserError(RuntimeError):
    """Chromium is missing or failed; the message carries its stderr tail."""


def chromium_path() -> str | None:
    """Path of a Chromium/Chrome binary (env ``BESTEX_CHROMIUM`` first), or None."""
    override = os.environ.get("BESTEX_CHROMIUM")
    if override:
        return override if os.path.exists(override) else None
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None


@functools.lru_cache(maxsize=1)
def offline_prefix() -> tuple[str, ...]:
    """``("unshare", "-n")`` (or ``-rn`` without root) if a no-network namespace works, else ``()``."""
    unshare = shutil.which("unshare")
    if not unshare:
        return ()
    for args in (("-n",), ("-r", "-n")):
        try:
            probe = subprocess.run([unshare, *args, "true"], check=False, capture_output=True, timeout=10)
            ok = probe.returncode == 0
        except (OSError, subprocess.SubprocessError):
            ok = False
        if ok:
            return (unshare, *args)
    return ()


def _run(html_path: str | os.PathLike[str], extra: list[str], *, width: int, height: int) -> str:
    binary = chromium_path()
    if binary is None:
        raise BrowserError("no Chromium found (install Debian 'chromium' or set BESTEX_CHROMIUM)")
    url = Path(html_path).resolve().as_uri()
    with tempfile.TemporaryDirectory(prefix="bx-chromium-") as profile:
        cmd = [
            *offline_prefix(),
            binary,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            f"--virtual-time-budget={VIRTUAL_TIME_BUDGET_MS}",
            *extra,
            url,
        ]
        env = {**os.environ, "HOME": profile}  # crash reports and caches go to the throwaway profile
        try:
            proc = subprocess.run(
                cmd, check=False, capture_output=True, text=True, timeout=TIMEOUT_S, env=env
            )
        except subprocess.TimeoutExpired as exc:
            raise BrowserError(f"Chromium timed out after {TIMEOUT_S} s on {url}") from exc
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.splitlines()[-20:])
        raise BrowserError(f"Chromium exited {proc.returncode} on {url}:\n{tail}")
    return proc.stdout


def dump_dom(html_path: str | os.PathLike[str], *, width: int = 1400, height: int = 2400) -> str:
    """The DOM after scripts ran (plotly charts drawn), as serialised HTML."""
    return _run(html_path, ["--dump-dom"], width=width, height=height)


def screenshot(
    html_path: str | os.PathLike[str],
    png_path: str | os.PathLike[str],
    width: int = 1400,
    height: int = 2400,
) -> Path:
    """Save a PNG of the first ``width`` x ``height`` pixels of the rendered report; returns its path."""
    png_path = Path(png_path).resolve()
    png_path.parent.mkdir(parents=True, exist_ok=True)
    if png_path.exists():
        png_path.unlink()
    _run(html_path, [f"--screenshot={png_path}"], width=width, height=height)
    if not png_path.exists():
        raise BrowserError(f"Chromium did not write {png_path}")
    return png_path
