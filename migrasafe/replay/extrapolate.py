"""From durations measured at a few sizes to the duration at production size.

Scans, rewrites, constraint checks and backfills grow with the rows linearly; building an index
sorts, which grows as rows × log(rows). So a statement that builds an index (CREATE INDEX,
a primary key or unique constraint, REINDEX, CLUSTER, VACUUM FULL) is fitted as

    ms = fixed + per_row × rows × log2(rows)

and every other one as a least-squares line

    ms = fixed + per_row × rows

A negative slope (noise on a statement whose time does not depend on rows) gives a constant,
the mean of the measurements; a negative intercept gives a curve through the origin.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from pglast import ast
from pglast.enums.parsenodes import AlterTableType, ConstrType

GROWTHS = ("linear", "n log n")


@dataclass(frozen=True)
class Fit:
    fixed_ms: float
    per_row_ms: float
    kind: str  # "fit", "constant", "measured"
    points: tuple[tuple[int, float], ...]
    growth: str = "linear"

    def predict(self, rows: int) -> float:
        return max(self.fixed_ms + self.per_row_ms * feature(rows, self.growth), 0.0)

    def describe(self) -> str:
        sizes = " / ".join(f"{rows:,}" for rows, _ in self.points)
        where = f"measured at {sizes} rows"
        if self.kind == "constant":
            return f"ms ≈ {self.fixed_ms:.3g} (does not grow with rows; {where})"
        if self.kind == "measured":
            return f"measured at production size ({sizes} rows)"
        term = "rows" if self.growth == "linear" else "rows × log2(rows)"
        return f"ms ≈ {self.fixed_ms:.3g} + {self.per_row_ms * 1e6:.4g} × {term} / 1e6 ({where})"

    def to_json(self) -> dict:
        return {"kind": self.kind, "growth": self.growth, "fixed_ms": round(self.fixed_ms, 3),
                "ms_per_million": round(self.per_row_ms * 1e6, 4),
                "points": [[rows, round(ms, 3)] for rows, ms in self.points]}


def feature(rows: int, growth: str) -> float:
    if growth == "n log n":
        return rows * math.log2(rows) if rows > 1 else 0.0
    return float(rows)


def growth_of(node) -> str:
    """How the statement's work grows with the rows: "n log n" when it builds an index."""
    if isinstance(node, (ast.IndexStmt, ast.ReindexStmt, ast.ClusterStmt)):
        return "n log n"
    if isinstance(node, ast.VacuumStmt):
        options = {getattr(o, "defname", "") for o in node.options or ()}
        return "n log n" if "full" in options else "linear"
    if isinstance(node, ast.AlterTableStmt):
        for command in node.cmds or ():
            if command.subtype == AlterTableType.AT_AddIndex:
                return "n log n"
            if command.subtype == AlterTableType.AT_AddConstraint and isinstance(command.def_, ast.Constraint):
                if command.def_.contype in (ConstrType.CONSTR_PRIMARY, ConstrType.CONSTR_UNIQUE,
                                            ConstrType.CONSTR_EXCLUSION) and not command.def_.indexname:
                    return "n log n"
    return "linear"


def fit(points: list[tuple[int, float]], growth: str = "linear") -> Fit:
    points = sorted(points)
    frozen = tuple(points)
    if not points:
        return Fit(0.0, 0.0, "constant", frozen, growth)
    xs = [feature(x, growth) for x, _ in points]
    ys = [y for _, y in points]
    mean_y = sum(ys) / len(ys)
    if len(set(xs)) < 2:
        if len(points) == 1 and xs[0] > 0:
            return Fit(0.0, ys[0] / xs[0], "fit", frozen, growth)
        return Fit(mean_y, 0.0, "constant", frozen, growth)
    mean_x = sum(xs) / len(xs)
    sxx = sum((x - mean_x) ** 2 for x in xs)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys)) / sxx
    if slope <= 0:
        return Fit(mean_y, 0.0, "constant", frozen, growth)
    intercept = mean_y - slope * mean_x
    if intercept < 0:
        slope = sum(x * y for x, y in zip(xs, ys)) / sum(x * x for x in xs)
        intercept = 0.0
    return Fit(intercept, slope, "fit", frozen, growth)


def predict(points: list[tuple[int, float]], rows: int, growth: str = "linear") -> tuple[float, Fit]:
    """The predicted duration at ``rows``; a size that was measured directly is taken as measured."""
    for measured_rows, ms in points:
        if measured_rows == rows:
            return ms, Fit(ms, 0.0, "measured", tuple(sorted(points)), growth)
    model = fit(points, growth)
    return model.predict(rows), model
