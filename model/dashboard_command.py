"""``dialogue dashboard``: start the Streamlit dashboard (dashboard/app.py).

This module only builds the ``streamlit run`` command line; it never imports the
dashboard code, so ``dialogue`` stays fast and the model package never depends on
``dashboard/``. The app is the ``dashboard`` package beside ``model``: in the
checkout (editable install) and in site-packages (wheel install) alike.
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import click

from model.errors import DialogueError

# The sibling of this very model package, never another ``dashboard`` on sys.path.
APP = Path(__file__).resolve().parent.parent / "dashboard" / "app.py"


def streamlit_argv(port: int, host: str = "127.0.0.1", app: Path = APP) -> list[str]:
    """The command that serves the dashboard (headless, no usage statistics)."""
    return [sys.executable, "-m", "streamlit", "run", str(app),
            "--server.headless", "true",
            "--server.address", host,
            "--server.port", str(port),
            "--browser.gatherUsageStats", "false",
            # Users run the app, they don't edit it: a watcher would offer to rerun on any
            # change in the tree and keep the page from ever going idle.
            "--server.fileWatcherType", "none"]


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


@click.command()
@click.option("--port", type=click.IntRange(1, 65535), default=8501, show_default=True,
              help="Port to serve the dashboard on.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (127.0.0.1: this machine only).")
@click.option("--dry-run", is_flag=True, help="Print the command instead of running it.")
def dashboard(port: int, host: str, dry_run: bool) -> None:
    """Open the interactive dashboard: sliders for every assumption, live forecast,
    comparison with the preset, and downloads (scenario, results, charts)."""
    import importlib.util
    import shlex

    if not APP.is_file():
        raise DialogueError(f"dashboard app not found at {APP}: the installation is incomplete; reinstall it "
                            "(pip install . or pip install -e . in the source folder)")
    if importlib.util.find_spec("streamlit") is None:
        raise DialogueError("streamlit is not installed; pip install 'streamlit>=1.40'")
    argv = streamlit_argv(port, host)
    if dry_run:
        click.echo(shlex.join(argv))
        return
    if not _port_free(host, port):
        raise DialogueError(f"port {port} on {host} is already in use; choose another with --port")
    click.echo(f"Dashboard at http://{host}:{port}  (Ctrl+C to stop)", err=True)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execvp(argv[0], argv)
