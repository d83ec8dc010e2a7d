"""The build's NBBO lookups: the NBBO in force at receipt and routing, and the latest valid NBBO at each
markout horizon after a fill, from one streaming pass over the quotes.

* :mod:`.stream` — the pass (lookup sets, the merge with the quotes, its rules: metrics.md section 1);
* :mod:`.kernel` — its compiled kernels (numba);
* :mod:`.answers` — the build step: staged orders and fills in, the answers as row-ordered views out.
"""
