"""bestex_nb: the FINRA Rule 5310 regular-and-rigorous review of best execution, in notebooks."""

import warnings as _warnings

__version__ = "0.1.0"

# duckdb 2.0's DataFrame conversion calls a pandas 3.1 API that is being deprecated; the warning is
# about duckdb's internals, not ours, and would otherwise print into every notebook and report.
_warnings.filterwarnings("ignore", message="The inplace keyword in DataFrame.drop", module="duckdb")
_warnings.filterwarnings("ignore", message="The inplace keyword in DataFrame.drop")

from .errors import BestexError, EmptyPeriodError, ExtractError, PeriodError  # noqa: E402
from .review import Review, open_review  # noqa: E402

__all__ = ["open_review", "Review", "BestexError", "ExtractError", "EmptyPeriodError", "PeriodError",
           "__version__"]
