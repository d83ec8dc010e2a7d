"""Exceptions with messages an analyst can act on."""


class BestexError(Exception):
    """Base class for bestex_nb errors."""


class ExtractError(BestexError):
    """An input extract breaks the contract: names the file, the column and the first offending rows."""


class EmptyPeriodError(BestexError):
    """The requested period (and venue) holds no orders the review covers."""


class PeriodError(BestexError, ValueError):
    """A period string that is not a quarter (2026Q3), a month (2026-07) or two ISO dates."""
