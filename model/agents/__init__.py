"""The actors, one per module. Order here is only for listing; the order in which
they act within a month is set by each actor's ``phase``."""

from model.agents.dialogue import StrategicDialogue
from model.agents.eu import EuropeanUnion
from model.agents.exiles import Exiles
from model.agents.kremlin import Kremlin
from model.agents.opposition import Opposition
from model.agents.outside_world import OutsideWorld
from model.agents.relations import Relations
from model.agents.russia import Russia
from model.agents.spy_rows import SpyRows
from model.agents.trade import Trade
from model.agents.uk_government import UKGovernment

ACTORS = (Opposition, Kremlin, UKGovernment, SpyRows, EuropeanUnion, Russia, Exiles, Trade, StrategicDialogue,
          OutsideWorld, Relations)

__all__ = ["ACTORS"]
