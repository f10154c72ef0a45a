"""What `migrasafe check` reports on the migrations saleor's SOURCE.md names, dangerous and safe.

    .venv/bin/python bench/django_saleor_findings.py [--cache DIR]

Checks the shared corpus's saleor/saleor folders (with DIR as the cache: a cache bench/django.py
kept makes it a warm run) and prints, for each migration SOURCE.md names, the rules it reports at
warning or error with their lines, and what SOURCE.md says of it, as a Markdown table for
bench/django-results.md. Nothing is decided here: the table is read.
"""
from __future__ import annotations

import argparse
import io
import json
import os
from contextlib import redirect_stdout
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "saleor__saleor"

# (app, migration, what SOURCE.md says of it)
DANGEROUS = [
    ("account", "0048_auto_20210308_1135", "two non-concurrent GIN AddIndex on account_user"),
    ("order", "0121_order_search_document", "non-concurrent AddIndex"),
    ("product", "0156_product_search_document", "non-concurrent AddIndex"),
    ("account", "0069_auto_20220823_0748", "RunPython updating every user in the migration's transaction"),
    ("account", "0070_alter_user_uuid", "AlterField unique=True: SET NOT NULL scan, non-concurrent unique index"),
    ("account", "0052_customerevent_app", "ForeignKey AddField on an existing table"),
    ("attribute", "0019_auto_20220214_1025", "ForeignKey AddField on an existing table"),
    ("discount", "0070_alter_promotionrule_variants_id", "AlterField id to BigAutoField: int to bigint rewrite"),
    ("checkout", "0011_auto_20180913_0817", "AlterUniqueTogether: unique index"),
    ("account", "0039_auto_20200221_0257", "RenameField meta to metadata"),
    ("account", "0043_rename_service_account_to_app", "RenameModel"),
    ("account", "0063_save_customerevent_order_token", "correlated UPDATE of account_customerevent (RunSQL)"),
    ("account", "0046_user_jwt_token_key", "Python-side default written as a constant DDL default"),
]
SAFE = [
    ("account", "0086_auto_20240805_0851", "atomic = False, AddIndexConcurrently (GIN trigram)"),
    ("account", "0088_user_user_date_joined_idx", "atomic = False, AddIndexConcurrently"),
    ("page", "0034_remove_page_page_page_title_964714_gin", "atomic = False, RemoveIndexConcurrently"),
    ("account", "0082_auto_20231204_1419", "atomic = False, RunSQL CREATE INDEX CONCURRENTLY IF NOT EXISTS"),
    ("app", "0040_appextension_identifier_unique_constraint", "atomic = False, RunSQL CREATE UNIQUE INDEX CONCURRENTLY"),
    ("account", "0068_user_uuid", "nullable AddField, then SET DEFAULT gen_random_uuid() in RunSQL"),
    ("checkout", "0055_create_checkout_metadata_model", "AddIndex on a model created in the same migration"),
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cache", type=Path, help="cache folder (default: MIGRASAFE_CACHE_DIR or the user's)")
    args = parser.parse_args()
    if args.cache:
        os.environ["MIGRASAFE_CACHE_DIR"] = str(args.cache)
    from migrasafe.cli import main as cli

    with redirect_stdout(io.StringIO()) as output:
        cli(["check", str(CORPUS), "--format", "json"])
    data = json.loads(output.getvalue())
    by_key = {(m["app"], m["name"]): m for m in data["migrations"] if m.get("format") == "django"}
    # Non-atomic migrations that create or drop an index concurrently, all of them.
    concurrent = [m for m in by_key.values() if not m["in_transaction"] and any(
        "CONCURRENTLY" in s["sql"].upper() for s in m["statements"])]
    noisy = [m for m in concurrent if _rules(m)]
    on_concurrent = [(m["app"], m["name"], f["rule"]) for m in concurrent for st in m["statements"]
                     if "CONCURRENTLY" in st["sql"].upper() for f in st["findings"]
                     if f["severity"] in ("warning", "error")]
    print("| migration | SOURCE.md | reported (warning, error) |\n|---|---|---|")
    for group in (DANGEROUS, SAFE):
        for app, name, said in group:
            migration = by_key.get((app, name))
            shown = "not reported" if migration is None else ", ".join(_rules(migration)) or "nothing"
            print(f"| {app}/{name} | {said} | {shown} |")
    print(f"\n{len(concurrent)} non-atomic migrations build or drop an index concurrently; "
          f"{len(noisy)} of them report a warning or an error"
          + (" on their other statements: " + ", ".join(f"{m['app']}/{m['name']} ({', '.join(_rules(m))})"
                                                        for m in noisy) if noisy else ".")
          + f" Warnings or errors on the CONCURRENTLY statements themselves: {len(on_concurrent)}"
          + (f" ({on_concurrent})" if on_concurrent else "") + ".")
    unrendered = sum(1 for m in by_key.values() for f in _all(m) if f["rule"] == "MS085")
    print(f"{len(by_key)} migrations reported; MS085 notes (stand-ins, not rendered): {unrendered}; "
          f"input errors (MS099): {sum(1 for f in data.get('findings', []) if f['rule'] == 'MS099')}")


def _all(migration: dict) -> list[dict]:
    return [f for s in migration["statements"] for f in s["findings"]] + migration["findings"]


def _rules(migration: dict) -> list[str]:
    """`RULE (line N)` for each warning or error, on the line of the statement (the operation)."""
    found = {(f["rule"], s["line"]) for s in migration["statements"] for f in s["findings"]
             if f["severity"] in ("warning", "error")}
    found |= {(f["rule"], f.get("line") or 1) for f in migration["findings"] if f["severity"] in ("warning", "error")}
    return [f"{rule} (line {line})" for rule, line in sorted(found, key=lambda x: (x[1], x[0]))]


if __name__ == "__main__":
    main()
