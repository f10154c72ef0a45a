#!/usr/bin/env python3
"""Fuzz `migrasafe check` with a large budget: the inputs of tests/test_fuzz.py (grammar-built
DDL, hostile fragments, mutated statements of ../shared/corpus when it is there), every layout,
every output format. Stops at the first failure and prints it with the input that caused it.

    python bench/fuzz.py                    # 2,000 examples, random seed
    python bench/fuzz.py --examples 20000 --seed 7
    python bench/fuzz.py --no-corpus        # grammar-built inputs only

Needs hypothesis (the test extras).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=2000, help="how many projects to check (default 2000)")
    parser.add_argument("--seed", type=int, default=None, help="fixed seed, to repeat a run")
    parser.add_argument("--no-corpus", action="store_true", help="leave out the shared corpus's statements")
    args = parser.parse_args(argv)

    from hypothesis import HealthCheck, given, seed, settings

    from fuzz_inputs import FuzzFailure, corpus_statements, fuzz_once, project

    with_corpus = not args.no_corpus and bool(corpus_statements())
    checked = 0

    with tempfile.TemporaryDirectory(prefix="migrasafe-fuzz-") as scratch:
        @settings(max_examples=args.examples, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(project(with_corpus=with_corpus))
        def fuzz(generated):
            nonlocal checked
            layout, texts = generated
            checked += 1
            fuzz_once(Path(scratch), layout, texts)

        if args.seed is not None:
            fuzz = seed(args.seed)(fuzz)
        started = time.perf_counter()
        try:
            fuzz()
        except FuzzFailure as failure:
            print(f"FAILED after {checked} projects:\n{failure}", file=sys.stderr)
            return 1
        elapsed = time.perf_counter() - started
    corpus = f"{len(corpus_statements())} corpus statements" if with_corpus else "no corpus"
    print(f"{checked} projects checked in every layout and format ({corpus}), no failure, "
          f"in {elapsed:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
