"""UK-Russia relations scenario simulator.

Pipeline: scenario (validated TOML) -> engine (simpy calendar over numpy arrays
of runs) -> results (xarray Dataset, run x time) -> analysis (summaries).

>>> from model import load_scenario, simulate, summarize
>>> ds = simulate(load_scenario("baseline"), runs=200, seed=1)
>>> summary = summarize(ds)
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("uk-russia-dialogue")
except PackageNotFoundError:  # running from a source tree
    __version__ = "0.1.0"

from model.analysis import Summary, summarize  # noqa: E402
from model.discovery import discover  # noqa: E402
from model.errors import DialogueError  # noqa: E402
from model.scenario import Scenario, load_scenario  # noqa: E402
from model.sensitivity import sensitivity  # noqa: E402  (shadows the module name; import from model.sensitivity)
from model.simulate import simulate  # noqa: E402

__all__ = ["DialogueError", "Scenario", "Summary", "discover", "load_scenario", "sensitivity", "simulate",
           "summarize", "__version__"]
