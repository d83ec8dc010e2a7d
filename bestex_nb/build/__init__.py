"""The build layer: extracts in, the review store out (``bestex build``; docs/methods.md section 1).

* :mod:`.store` — the build: fingerprint, steps in order, the store's metadata;
* :mod:`.staging` — each extract read, checked against the contract and typed;
* :mod:`.idmatch` (kernels in :mod:`.idmatch_kernels`) — the text ids matched once, on their bytes;
* :mod:`.nbbo` — the NBBO at receipt, at routing and at the markout horizons, in one pass over the quotes;
* :mod:`.fill_sums` — each order row's fills summed up;
* :mod:`.exclusion_candidates` — the order rows an exclusion rule reading those answers may apply to;
* :mod:`.clock` — New York's days, closes and wall clock;
* :mod:`.arrays` — the null sentinel and array helpers the compiled kernels share;
* :mod:`.sidecar` — a large store's files kept beside it; :mod:`.memory` — huge pages off while building;
  :mod:`.hashing` — SHA-256 of the inputs; :mod:`.fingerprint` — whether the inputs still hold the bytes a
  store was built from.
"""
