"""bestex_nb: the FINRA Rule 5310 regular-and-rigorous review of best execution, in notebooks."""

import warnings as _warnings

__version__ = "0.1.0"

# duckdb 2.0's DataFrame conversion calls a pandas 3.1 API that is being deprecated; the warning is
# about duckdb's internals, not ours, and would otherwise print into every notebook and report.
_warnings.filterwarnings("ignore", message="The inplace keyword in DataFrame.drop", module="duckdb")
_warnings.filterwarnings("ignore", message="The inplace keyword in DataFrame.drop")

from bestex_nb.contract.errors import BestexError, EmptyPeriodError, ExtractError, PeriodError
from bestex_nb.review import Review, open_review

__all__ = [
           "BestexError",
           "EmptyPeriodError",
           "ExtractError",
           "PeriodError",
           "Review",
           "__version__",
           "open_review",
]
