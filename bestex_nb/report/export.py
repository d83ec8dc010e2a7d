"""Execute review notebooks with papermill and freeze them to self-contained, offline HTML.

The HTML uses the package's ``bx_report`` nbconvert template: plotly figures (the kernel's default
``application/vnd.plotly.v1+json`` outputs) are drawn with plotly.js inlined once from the installed
plotly package, and nothing is loaded from the network. See shared/notes/stack-check.md sections 3, 5.
"""

from __future__ import annotations

import functools
import os
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import nbformat
import plotly
from nbconvert import HTMLExporter
from traitlets.config import Config

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
TEMPLATE_NAME = "bx_report"
#: Holds plotly.min.js, which the template inlines with ``resources.include_js``.
PLOTLY_PACKAGE_DATA = Path(plotly.__file__).resolve().parent / "package_data"

#: Output priority: plotly's JSON first, so a figure is drawn by the template rather than dropped.
#: It must be set on NbConvertBase (HTMLExporter.display_data_priority is not recognised).
DISPLAY_DATA_PRIORITY = [
    "application/vnd.plotly.v1+json",
    "application/vnd.jupyter.widget-view+json",
    "application/javascript",
    "text/html",
    "text/markdown",
    "image/svg+xml",
    "text/vnd.mermaid",
    "text/latex",
    "image/png",
    "image/jpeg",
    "text/plain",
]

#: Kernel transport. IPC needs no loopback network and avoids ipykernel's unencrypted-TCP warning;
#: zmq has no IPC transport on Windows.
KERNEL_TRANSPORT = "tcp" if sys.platform.startswith("win") else "ipc"


# ---------------------------------------------------------------------------------------------------
# Execute
# ---------------------------------------------------------------------------------------------------


def execute_notebook(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    parameters: dict[str, Any],
    cwd: str | os.PathLike[str] | None = None,
    kernel_name: str = "python3",
) -> nbformat.NotebookNode:
    """Run a notebook with papermill, injecting ``parameters``, and save the executed copy to ``dst``.

    The kernel talks to papermill over IPC sockets in a private temporary directory (one per run, so
    parallel runs never collide), falling back to TCP on Windows. The kernel inherits this process's
    environment, so ``bestex_nb`` must be importable there (installed, or on ``PYTHONPATH``).

    Parameters
    ----------
    src, dst : path
        Source notebook (with a cell tagged ``parameters``) and where to write the executed notebook.
    parameters : dict
        Values injected after the ``parameters`` cell (papermill's ``injected-parameters`` cell).
    cwd : path, optional
        Working directory of the kernel; papermill's default (this process's cwd) if None.
    kernel_name : str
        Jupyter kernel spec name.

    Returns
    -------
    NotebookNode
        The executed notebook, as written to ``dst``.

    Raises
    ------
    papermill.PapermillExecutionError
        A cell raised; ``dst`` is still written, with the traceback in the failing cell.
    """
    import papermill as pm  # slow import (about 2.5 s): only when executing

    src, dst = Path(src).resolve(), Path(dst).resolve()
    dst.parent.mkdir(parents=True, exist_ok=True)
    # papermill formats both paths as templates (``path.format(**parameters)`` in
    # papermill.parameterize.parameterize_path): doubled braces come back as the literal path.
    src_arg, dst_arg = _literal_path(src), _literal_path(dst)
    kwargs: dict[str, Any] = {
        "parameters": dict(parameters),
        "kernel_name": kernel_name,
        "cwd": str(Path(cwd).resolve()) if cwd is not None else None,
        "progress_bar": False,
        "log_output": False,
    }
    if KERNEL_TRANSPORT == "tcp":
        return pm.execute_notebook(src_arg, dst_arg, **kwargs)
    with tempfile.TemporaryDirectory(prefix="bx-ipc-") as ipc_dir:
        # Passed through papermill to nbclient, which builds (and shuts down) its own kernel manager
        # from this config. A fixed, private socket prefix avoids the relative "kernel-ipc-N" files
        # jupyter_client would otherwise race for in the current directory.
        config = Config()
        config.KernelManager.transport = "ipc"
        config.KernelManager.ip = os.path.join(ipc_dir, "k")
        return pm.execute_notebook(src_arg, dst_arg, config=config, **kwargs)


def _literal_path(path: Path) -> str:
    """``path`` as papermill's path template that formats to exactly ``path`` (braces doubled)."""
    return str(path).replace("{", "{{").replace("}", "}}")


# ---------------------------------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _exporter(hide_code: bool) -> HTMLExporter:
    config = Config()
    config.TemplateExporter.extra_template_basedirs = [str(TEMPLATES_DIR)]
    config.TemplateExporter.extra_template_paths = [str(PLOTLY_PACKAGE_DATA)]
    config.HTMLExporter.template_name = TEMPLATE_NAME
    config.NbConvertBase.display_data_priority = list(DISPLAY_DATA_PRIORITY)
    config.TemplateExporter.exclude_input = hide_code
    config.TemplateExporter.exclude_input_prompt = hide_code
    config.TemplateExporter.exclude_output_prompt = hide_code
    return HTMLExporter(config=config)


def export_html(
    ipynb_path: str | os.PathLike[str], html_path: str | os.PathLike[str], *, hide_code: bool = True
) -> Path:
    """Freeze an executed notebook to one self-contained HTML file (no network needed to view it).

    The same notebook always gives byte-identical HTML: plot ids derive from cell ids, and nothing
    depends on the time, the file's mtime or the current directory.

    Parameters
    ----------
    ipynb_path : path
        Executed notebook.
    html_path : path
        Output file; parent folders are created.
    hide_code : bool
        Leave out code cells' input and the In/Out prompts (markdown and outputs stay).

    Returns
    -------
    Path
        ``html_path``, resolved.
    """
    ipynb_path, html_path = Path(ipynb_path).resolve(), Path(html_path).resolve()
    nb = nbformat.read(ipynb_path, as_version=4)
    resources = {"metadata": {"name": ipynb_path.stem, "path": str(ipynb_path.parent)}}
    body, _ = _exporter(bool(hide_code)).from_notebook_node(nb, resources=resources)
    html_path.parent.mkdir(parents=True, exist_ok=True)
    with open(html_path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(body)
    return html_path


# ---------------------------------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------------------------------

#: (tag, attribute) pairs that make a browser fetch a resource when the page opens.
_LOADING_ATTRS = {
    ("script", "src"),
    ("link", "href"),
    ("img", "src"),
    ("img", "srcset"),
    ("iframe", "src"),
    ("source", "src"),
    ("source", "srcset"),
    ("video", "src"),
    ("audio", "src"),
    ("embed", "src"),
    ("object", "data"),
}


def _is_remote(url: str) -> bool:
    url = url.strip().lower()
    return url.startswith(("http://", "https://", "//"))


class _LoadFinder(HTMLParser):
    """Collects remote loads from tags; script and style bodies are not parsed as markup."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.loads: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if (tag, name) in _LOADING_ATTRS and value:
                candidates = value.split(",") if name == "srcset" else [value]
                if any(_is_remote(c.strip().split(" ")[0]) for c in candidates):
                    self.loads.append(f'<{tag} {name}="{value}">')

    handle_startendtag = handle_starttag


def external_loads(html_text: str) -> list[str]:
    """Every tag in ``html_text`` that would load a resource over the network when opened.

    Looks at ``<script src>``, ``<link href>``, ``<img src>`` (and iframe, source, video, audio, embed,
    object) whose URL is ``http(s)://`` or protocol-relative ``//``. Text inside ``<script>`` is not
    markup, so plotly.js's inert URLs (e.g. ``topojsonURL``) are not reported.

    Returns
    -------
    list of str
        ``'<script src="https://...">'``-style strings in document order; empty when offline-safe.
    """
    finder = _LoadFinder()
    finder.feed(html_text)
    finder.close()
    return finder.loads


