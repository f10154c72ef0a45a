"""The cases of the matrix: every family's statements for every context."""
from __future__ import annotations

from dataclasses import dataclass

from .contexts import BY_NAME, CONTEXTS, Context
from .families import FAMILIES


@dataclass(frozen=True)
class Case:
    context: str
    family: str
    name: str
    sql: str

    @property
    def id(self) -> str:
        return f"{self.context}:{self.name}"

    @property
    def ctx(self) -> Context:
        return BY_NAME[self.context]


def all_cases() -> list[Case]:
    cases, seen = [], set()
    for ctx in CONTEXTS:
        for family_name, family in FAMILIES.items():
            for name, sql in family(ctx):
                case = Case(ctx.name, family_name, name, sql)
                if case.id in seen:
                    raise ValueError(f"two cases named {case.id}")
                seen.add(case.id)
                cases.append(case)
    return cases


def cases_of(context: str) -> list[Case]:
    return [c for c in all_cases() if c.context == context]
