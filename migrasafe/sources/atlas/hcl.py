"""The few facts migrasafe needs from an Atlas project file (`atlas.hcl`): for each `env`, its
`migration` block's `dir`, `format`, `baseline` and transaction mode.

Atlas project files are HCL (https://atlasgo.io/atlas-schema/projects). This reads the subset that
names a migration directory: blocks, `name = value` attributes, strings with `${local.x}` /
`${var.x}` interpolation, bare references to `local.x` / `var.x`, and `locals` / `variable "x"
{ default = ... }` values. Any other expression is left unresolved (None), never guessed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

_TOKEN = re.compile(
    r"""(?P<space>\s+)
      | (?P<comment>//[^\n]*|\#[^\n]*|/\*.*?\*/)
      | (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<heredoc><<-?(?P<tag>[A-Za-z_]+)\n.*?\n\s*(?P=tag)\b)
      | (?P<word>[A-Za-z_][A-Za-z0-9_\-.]*)
      | (?P<number>\d+(?:\.\d+)?)
      | (?P<punct>[{}\[\]=,()])
      | (?P<other>.)""",
    re.X | re.S,
)
_INTERPOLATION = re.compile(r"\$\{\s*([A-Za-z_][A-Za-z0-9_.\-]*)\s*\}")


@dataclass
class Block:
    kind: str
    labels: list[str] = field(default_factory=list)
    attributes: dict[str, object] = field(default_factory=dict)  # raw: ("str", text) / ("ref", name) / ...
    blocks: list["Block"] = field(default_factory=list)


@dataclass
class MigrationSettings:
    env: str
    dir: str | None
    format: str | None
    baseline: str | None
    tx_mode: str | None


def _tokens(text: str) -> list[tuple[str, str]]:
    out = []
    for match in _TOKEN.finditer(text):
        kind = "heredoc" if match.group("heredoc") else match.lastgroup
        if kind not in ("space", "comment"):
            out.append((kind, match.group(kind)))
    return out


def parse(text: str) -> Block:
    """The file as nested blocks; unreadable parts are skipped up to the next line's attribute."""
    tokens = _tokens(text)
    root = Block("file")
    _body(tokens, 0, root)
    return root


def _body(tokens: list[tuple[str, str]], i: int, block: Block) -> int:
    n = len(tokens)
    while i < n:
        kind, value = tokens[i]
        if value == "}" and kind == "punct":
            return i + 1
        if kind != "word":
            i += 1
            continue
        j = i + 1
        if j < n and tokens[j] == ("punct", "="):
            expr, i = _expression(tokens, j + 1)
            block.attributes[value] = expr
            continue
        labels = []
        while j < n and tokens[j][0] in ("string", "word") and tokens[j][1] != "{":
            labels.append(_unquote(tokens[j][1]) if tokens[j][0] == "string" else tokens[j][1])
            j += 1
        if j < n and tokens[j] == ("punct", "{"):
            child = Block(value, labels)
            block.blocks.append(child)
            i = _body(tokens, j + 1, child)
        else:
            i = j
    return i


def _expression(tokens: list[tuple[str, str]], i: int) -> tuple[object, int]:
    """One attribute value; lists and calls are kept only as "other" (not needed here)."""
    if i >= len(tokens):
        return ("other", ""), i
    kind, value = tokens[i]
    if kind == "string":
        return ("str", _unquote(value)), i + 1
    if kind == "word":
        return ("ref", value), i + 1
    if kind == "number":
        return ("str", value), i + 1
    if value in ("[", "(", "{"):
        closing = {"[": "]", "(": ")", "{": "}"}[value]
        depth, j = 0, i
        while j < len(tokens):
            if tokens[j][1] == value:
                depth += 1
            elif tokens[j][1] == closing:
                depth -= 1
                if depth == 0:
                    return ("other", ""), j + 1
            j += 1
        return ("other", ""), j
    return ("other", value), i + 1


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), text[1:-1])


def _values(root: Block) -> dict[str, object]:
    """`local.x` and `var.x` → their raw values."""
    values: dict[str, object] = {}
    for block in root.blocks:
        if block.kind == "locals":
            for name, expr in block.attributes.items():
                values[f"local.{name}"] = expr
        elif block.kind == "variable" and block.labels and "default" in block.attributes:
            values[f"var.{block.labels[0]}"] = block.attributes["default"]
    return values


def _resolve(expr: object, values: dict[str, object], depth: int = 0) -> str | None:
    if depth > 8 or not isinstance(expr, tuple):
        return None
    kind, value = expr
    if kind == "ref":
        if value in values:
            return _resolve(values[value], values, depth + 1)
        # Atlas names its directory formats as bare words (`format = golang-migrate`).
        return None if "." in value else value
    if kind != "str":
        return None
    unresolved = False

    def substitute(match: re.Match) -> str:
        nonlocal unresolved
        got = _resolve(("ref", match.group(1)), values, depth + 1) if "." in match.group(1) else None
        if got is None:
            unresolved = True
            return match.group(0)
        return got

    text = _INTERPOLATION.sub(substitute, value)
    return None if unresolved else text


def lint_analyzers(text: str) -> set[str]:
    """The analyzers a `lint` block configures (`lint { concurrent_index { ... } }`), at the top
    level or in an `env` block."""
    root = parse(text)
    holders = [root, *(b for b in root.blocks if b.kind == "env")]
    return {analyzer.kind for holder in holders for lint in holder.blocks if lint.kind == "lint"
            for analyzer in lint.blocks}


def migration_settings(text: str) -> list[MigrationSettings]:
    """One entry per `env` block that has a `migration` block (in file order)."""
    root = parse(text)
    values = _values(root)
    out = []
    for env in root.blocks:
        if env.kind != "env":
            continue
        name = env.labels[0] if env.labels else _resolve(env.attributes.get("name"), values) or ""
        for migration in (b for b in env.blocks if b.kind == "migration"):
            tx_mode = None
            for holder in (env, migration):
                for key in ("tx_mode", "tx-mode"):
                    if key in holder.attributes:
                        tx_mode = _resolve(holder.attributes[key], values)
            out.append(MigrationSettings(
                env=name,
                dir=_resolve(migration.attributes.get("dir"), values),
                format=_resolve(migration.attributes.get("format"), values),
                baseline=_resolve(migration.attributes.get("baseline"), values),
                tx_mode=tx_mode,
            ))
    return out
