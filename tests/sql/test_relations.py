"""The model graph can be read from bestex_nb/sql alone: every relation a .sql file reads is another .sql
file (a model by its file name, or a table macro of macros/ by its name) or is declared in
sql/registered.md, the one list of what Python registers."""

import re
from importlib import resources

import pytest

SQL = resources.files("bestex_nb").joinpath("sql")
FILES = {f"{layer.name}/{f.name[:-4]}": f.read_text()
         for layer in SQL.iterdir() if layer.is_dir()
         for f in layer.iterdir() if f.name.endswith(".sql")}
NAME = r"[a-z_][a-z0-9_]*"
#: DuckDB's table functions that read no relation of ours (query_table(p) in a macro reads its parameter).
READS_NOTHING = {"query_table", "range", "generate_series", "unnest"}


def code(sql_text: str) -> str:
    """``sql_text`` without comments, its string literals emptied (``''``), lower case."""
    out, i, n = [], 0, len(sql_text)
    while i < n:
        if sql_text.startswith("--", i):
            i = sql_text.find("\n", i)
            i = n if i < 0 else i
        elif sql_text[i] == "'":
            j = i + 1
            while j < n and not (sql_text[j] == "'" and not sql_text.startswith("''", j)):
                j += 2 if sql_text.startswith("''", j) else 1
            out.append("''")
            i = j + 1
        else:
            out.append(sql_text[i])
            i += 1
    return "".join(out).lower()


def table_macros() -> set[str]:
    return {m for text in FILES.values() for m in re.findall(rf"create\s+(?:or\s+replace\s+)?macro\s+({NAME})\s*\([^)]*\)\s+as\s+table",
                                                              code(text))}


def reads(sql_text: str) -> set[str]:
    """The relations ``sql_text`` reads: names after ``from`` / ``join`` (and the relation arguments of
    our table macros there), without its common table expressions. ``query_table(p)`` in a macro reads
    its parameter ``p``, not a relation."""
    body = code(sql_text)
    ctes = set(re.findall(rf"(?:\bwith|,)\s+({NAME})\s+as\s*(?:not\s+)?(?:materialized\s+)?\(", body))
    macros = table_macros()
    found = set()
    for m in re.finditer(rf"\b(?:from|join)\s+({NAME}(?:\.{NAME})*)\s*(\()?", body):
        _read(m.group(1), bool(m.group(2)), body, m.end(), macros, found)
        pos = m.end() if not m.group(2) else _closing(body, m.end())
        while True:  # `from a [as x], b [as y], ...`: the other relations of a comma-separated list
            alias = re.match(rf"\s*(?:as\s+)?({NAME})?", body[pos:])
            if alias.group(1) and alias.group(1).lower() in NOT_ALIASES:
                break
            item = re.match(rf"\s*,\s*({NAME}(?:\.{NAME})*)\s*(\()?", body[pos + alias.end():])
            if not item:
                break
            at = pos + alias.end() + item.end()
            _read(item.group(1), bool(item.group(2)), body, at, macros, found)
            pos = at if not item.group(2) else _closing(body, at)
    # a macro's own parameters, passed on to another macro (pi_orders(p_start, ...)), are not relations
    params = {p for args in re.findall(rf"\bmacro\s+{NAME}\s*\(([^)]*)\)", body) for p in re.findall(NAME, args)}
    return found - ctes - params


#: Words that can follow a relation in a from list and are not its alias.
NOT_ALIASES = {"where", "join", "left", "right", "inner", "outer", "cross", "full", "natural", "positional",
               "asof", "anti", "semi", "group", "order", "limit", "on", "using", "union", "except",
               "intersect", "qualify", "having", "window", "select", "offset"}


def _read(name: str, called: bool, body: str, at: int, macros: set[str], found: set[str]) -> None:
    if not called:
        found.add(name)
    elif name in macros:
        found.add(name)
        # its relation arguments (order_facts(fct_orders_base)); bound values ($period_start) and null are not
        found.update(n for n in re.findall(rf"(?<![$\w]){NAME}", body[at:body.index(")", at)]) if n != "null")
    elif name not in READS_NOTHING:
        raise AssertionError(f"unexpected table function {name}(...): say here what it reads")


def _closing(body: str, at: int) -> int:
    """The position after the parenthesis that closes the one opened just before ``at``."""
    depth = 1
    while depth:
        depth += {"(": 1, ")": -1}.get(body[at], 0)
        at += 1
    return at


def registered() -> set[str]:
    text = SQL.joinpath("registered.md").read_text()
    section = text.split("## Read by the SQL files", 1)[1].split("\n## ", 1)[0]
    return {n for line in section.splitlines() if line.startswith("- ") for n in re.findall(rf"`({NAME})`", line.split(":")[0])}


def models() -> set[str]:
    return {name.split("/")[1] for name in FILES} | table_macros()


def test_the_parser_sees_reads_and_not_comments_literals_or_ctes():
    text = ("-- q: reads nothing from here\n-- grain: x\n-- params: none\nwith a as (select * from b\n"
            "  where x = 'from c' and y in (select y from d)), e as materialized (from a join f using (k))\n"
            "select * from e, a join order_facts(g) as h on true left join query_table(p) on true")
    assert reads(text) == {"b", "d", "f", "order_facts", "g"}
    # a comma-separated from list reads every relation in it, aliased or not
    assert reads("select * from fct_orders, secret_python_table") == {"fct_orders", "secret_python_table"}
    assert reads("select * from fct_orders as o, stg_venues v, x where true") == {"fct_orders", "stg_venues", "x"}
    assert reads("select * from order_facts(g) as h, k") == {"order_facts", "g", "k"}


@pytest.mark.parametrize("name", sorted(FILES))
def test_every_relation_read_is_a_model_or_registered(name):
    unknown = reads(FILES[name]) - models() - registered()
    assert not unknown, f"{name} reads {sorted(unknown)}: neither a .sql file nor declared in sql/registered.md"


def test_every_registered_relation_is_read_and_is_not_a_model():
    read = set().union(*(reads(t) for t in FILES.values()))
    assert registered() - read == set(), "declared in sql/registered.md but read by no .sql file"
    assert registered() & models() == set(), "a model is not registered by Python"


def test_code_version_hashes_every_sql_folder(monkeypatch, tmp_path):
    """A store built by other SQL is rebuilt: a change to a file of any folder of sql/ (macros/ too)
    changes the store's code version."""
    import shutil

    from bestex_nb.build import store

    copy = tmp_path / "sql"
    shutil.copytree(str(SQL), copy)
    real = store.resources.files("bestex_nb")

    class Package:  # the package, with sql/ read from the copy
        def joinpath(self, *parts):
            return copy.joinpath(*parts[1:]) if parts[0] == "sql" else real.joinpath(*parts)

    monkeypatch.setattr(store.resources, "files", lambda _: Package())
    before = store.code_version()
    folders = sorted(p.name for p in copy.iterdir() if p.is_dir())
    assert "macros" in folders
    for folder in folders:
        f = min(copy.joinpath(folder).glob("*.sql"))
        text = f.read_text()
        f.write_text(text + "\n-- changed")
        assert store.code_version() != before, folder
        f.write_text(text)
    assert store.code_version() == before
