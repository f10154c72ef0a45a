"""`python -m migrasafe`, the same as the `migrasafe` command."""
from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
