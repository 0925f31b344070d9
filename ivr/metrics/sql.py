"""Time arithmetic in SQL that reads the same in SQLite and PostgreSQL.

SQLite keeps timestamps as UTC text (``YYYY-MM-DD HH:MM:SS.ffffff``, see
:class:`ivr.store.schema.UTCDateTime`) and PostgreSQL as ``timestamptz``, so subtracting two of
them, or adding seconds to one, is spelled differently in each. These two expressions hide it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Float, SQLColumnExpression, String, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


class seconds_between(FunctionElement[float]):
    """``later - earlier`` in seconds, to the millisecond in SQLite (exact in PostgreSQL)."""

    type = Float()
    inherit_cache = True
    name = "seconds_between"

    def __init__(self, earlier: SQLColumnExpression[Any], later: SQLColumnExpression[Any]) -> None:
        super().__init__(earlier, later)


class plus_seconds(FunctionElement[Any]):
    """A timestamp column plus a whole number of seconds, comparable with the column."""

    type = String()
    inherit_cache = True
    name = "plus_seconds"

    def __init__(self, moment: SQLColumnExpression[Any], seconds: int) -> None:
        # A literal, not an attribute: it must be part of the statement's cache key.
        super().__init__(moment, literal_column(str(int(seconds))))


def _args(element: FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> list[str]:
    return [compiler.process(clause, **kw) for clause in element.clauses]


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    earlier, later = _args(element, compiler, **kw)
    # julianday is a double of days: rounding to the millisecond removes its float noise.
    return f"round((julianday({later}) - julianday({earlier})) * 86400.0, 3)"


@compiles(seconds_between, "postgresql")
def _seconds_postgres(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    earlier, later = _args(element, compiler, **kw)
    return f"date_part('epoch', {later} - {earlier})"  # a double (EXTRACT gives numeric)


@compiles(plus_seconds, "sqlite")
def _plus_sqlite(element: plus_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    moment, seconds = _args(element, compiler, **kw)
    # The stored text has microseconds; SQLite's %f has milliseconds, so pad it to compare.
    return f"strftime('%Y-%m-%d %H:%M:%f000', {moment}, '+{seconds} seconds')"


@compiles(plus_seconds, "postgresql")
def _plus_postgres(element: plus_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    moment, seconds = _args(element, compiler, **kw)
    return f"({moment} + make_interval(secs => {seconds}))"


class json_list(FunctionElement[Any]):
    """An aggregate: the group's values as one JSON array, read back as a Python list.

    One value per row is costly to fetch row by row (the driver builds a row each time);
    thousands of them in one JSON document cost one row and one C-speed parse.
    """

    type = JSON()
    inherit_cache = True
    name = "json_list"


@compiles(json_list, "sqlite")
def _json_list_sqlite(element: json_list, compiler: SQLCompiler, **kw: Any) -> str:
    (value,) = _args(element, compiler, **kw)
    return f"json_group_array({value})"


@compiles(json_list, "postgresql")
def _json_list_postgres(element: json_list, compiler: SQLCompiler, **kw: Any) -> str:
    (value,) = _args(element, compiler, **kw)
    return f"coalesce(json_agg({value}), '[]'::json)"


class json_row(FunctionElement[Any]):
    """Several values as one JSON array (a row inside :class:`json_list`)."""

    type = JSON()
    inherit_cache = True
    name = "json_row"


@compiles(json_row, "sqlite")
def _json_row_sqlite(element: json_row, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_array({', '.join(_args(element, compiler, **kw))})"


@compiles(json_row, "postgresql")
def _json_row_postgres(element: json_row, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_build_array({', '.join(_args(element, compiler, **kw))})"
