# bestex_nb — the two commands a new user needs are `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
DATA   ?= data/sample
PERIOD ?= 2026Q3

.PHONY: demo test lab notebooks bench lint clean-venv

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	$(BIN)/python -m ipykernel install --prefix $(VENV) --name python3 >/dev/null
	touch $@

$(DATA)/orders.parquet: | $(BIN)/.installed
	$(BIN)/bestex sample-data --out $(DATA)

## demo: install, generate the sample quarter, build the store, run both reviews for the firm and each venue
demo: $(BIN)/.installed $(DATA)/orders.parquet
	$(BIN)/bestex build --data $(DATA)
	$(BIN)/bestex run --period $(PERIOD) --notebook price_improvement --notebook limit_fill_likelihood \
	  --data $(DATA) --all-venues

## test: install with the test extra and run the whole suite
test: $(BIN)/.installed
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

## lab: open JupyterLab on the notebooks (as root too, as in containers and CI: JupyterLab refuses root
## without --allow-root); extra options in LAB_ARGS, e.g. make lab LAB_ARGS="--no-browser --port 8899"
LAB_ARGS ?=
lab: $(BIN)/.installed $(DATA)/orders.parquet
	cd notebooks && ../$(BIN)/jupyter lab $$(test "$$(id -u)" -eq 0 && echo --allow-root) $(LAB_ARGS)

## notebooks: resync each notebooks/<name>.py (percent format) with its <name>.ipynb, newest wins
notebooks: $(BIN)/.installed
	$(BIN)/jupytext --sync notebooks/*.py notebooks/*.ipynb

## bench: the store build at scale against pandas merge_asof (each in its own process)
bench: $(BIN)/.installed
	$(BIN)/pip install -q -e '.[test,bench]'
	$(BIN)/python -m benchmarks.bench

lint: $(BIN)/.installed
	$(BIN)/ruff check bestex_nb tests notebooks

clean-venv:
	rm -rf $(VENV)
