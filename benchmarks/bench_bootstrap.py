"""The venue comparison's bootstrap at scale (issue 18): seconds for the cell-matched comparison of the
price-improvement metrics together, of the limit-order fill rate, and for the deterioration trigger, on
sums frames the caller read once (``Review.comparison_sums(period, "pi")`` / ``"fills"`` and the prior
period's ``"pi"``). No assertions: the harness records the figures.
"""

from __future__ import annotations

import time

import pandas as pd

PI_METRICS = ("net_pi_ps", "eq_ratio", "eff_spread_ps", "realized_spread_1m_ps", "avg_exec_ms")


def measure(sums_pi: pd.DataFrame, sums_fills: pd.DataFrame, sums_prior: pd.DataFrame) -> dict:
    """Wall and CPU seconds of ``compare_many`` (PI metrics), ``compare`` (``fill_rate_shares``) and
    ``deterioration`` with the committee's default parameters (replicates, seed, Holm, interval level)."""
    from bestex_nb.contract import parameters as params_mod
    from bestex_nb.stats import comparison
    from bestex_nb.stats import deterioration as det

    p = params_mod.load()
    kw = {"alpha": p.holm_alpha, "min_symbol_days": p.min_symbol_days, "replicates": p.replicates,
          "seed": p.seed, "level": p.ci_level}
    runs = {
        "compare_many_pi": lambda: comparison.compare_many(
            sums_pi, list(PI_METRICS), thresholds={m: p.threshold(m) for m in PI_METRICS}, **kw),
        "compare_fill_rate": lambda: comparison.compare(
            sums_fills, "fill_rate_shares", threshold=p.threshold("fill_rate_shares"), **kw),
        "deterioration": lambda: det.deterioration(
            sums_pi, sums_prior, period="current", prior_period="prior", pct_threshold=p.deterioration_pct,
            abs_threshold=p.deterioration_abs_ps, **kw),
    }
    out = {"rows_pi": len(sums_pi), "rows_fills": len(sums_fills), "rows_prior": len(sums_prior)}
    for name, run in runs.items():
        wall, cpu = time.perf_counter(), time.process_time()
        run()
        out[f"{name}_s"] = round(time.perf_counter() - wall, 3)
        out[f"{name}_cpu_s"] = round(time.process_time() - cpu, 3)
    out["total_s"] = round(sum(out[f"{n}_s"] for n in runs), 3)
    return out
