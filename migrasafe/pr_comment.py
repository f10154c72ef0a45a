"""Post a Markdown report as one pull-request comment, updated in place on later runs.

    python -m migrasafe.pr_comment comment.md [--update-only]

Used by the GitHub Action (action.yml). It reads GITHUB_TOKEN, GITHUB_REPOSITORY,
GITHUB_EVENT_PATH (for the pull request number) and GITHUB_API_URL. The comment it owns is
the one whose body starts with the report's hidden marker; `--update-only` refreshes that
comment but does not create one, so a passing pull request gets no new comment.

A token without permission to comment (pull requests from forks) is not an error: the report
is still in the job log and summary, so this prints a warning and exits 0.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request

from .report.markdown import MARKER

PAGE_SIZE = 100


class CommentError(Exception):
    pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m migrasafe.pr_comment", description=__doc__.splitlines()[0])
    parser.add_argument("file", help="Markdown report (migrasafe check --format markdown)")
    parser.add_argument("--update-only", action="store_true", help="update an earlier comment, never create one")
    args = parser.parse_args(argv)
    try:
        with open(args.file, encoding="utf-8") as handle:
            body = handle.read()
    except OSError as err:
        print(f"migrasafe: cannot read {args.file}: {err.strerror or err}", file=sys.stderr)
        return 2
    if not body.startswith(MARKER):
        body = f"{MARKER}\n{body}"
    try:
        github = GitHub.from_environment()
        number = pull_request_number()
        if number is None:
            print("migrasafe: not a pull request event; no comment posted", file=sys.stderr)
            return 0
        outcome = upsert(github, number, body, create=not args.update_only)
    except CommentError as err:
        print(f"migrasafe: {err}", file=sys.stderr)
        return 2
    except PermissionError as err:
        print(f"::warning title=migrasafe::cannot comment on the pull request ({err}); see the job summary")
        return 0
    print(f"migrasafe: pull request comment {outcome}", file=sys.stderr)
    return 0


def upsert(github: "GitHub", number: int, body: str, create: bool = True) -> str:
    """Update our comment on the pull request, or create it; says which it did."""
    ours = find_comment(github, number)
    if ours is not None:
        if ours.get("body") == body:
            return "unchanged"
        github.request("PATCH", f"/issues/comments/{ours['id']}", {"body": body})
        return "updated"
    if not create:
        return "not needed"
    github.request("POST", f"/issues/{number}/comments", {"body": body})
    return "created"


def find_comment(github: "GitHub", number: int) -> dict | None:
    page = 1
    while True:
        comments = github.request("GET", f"/issues/{number}/comments?per_page={PAGE_SIZE}&page={page}")
        if not isinstance(comments, list):
            raise CommentError("unexpected answer when listing pull request comments")
        for comment in comments:
            if str(comment.get("body", "")).startswith(MARKER):
                return comment
        if len(comments) < PAGE_SIZE:
            return None
        page += 1


def pull_request_number() -> int | None:
    path = os.environ.get("GITHUB_EVENT_PATH")
    if not path:
        raise CommentError("GITHUB_EVENT_PATH is not set: run this in a GitHub Actions job")
    try:
        with open(path, encoding="utf-8") as handle:
            event = json.load(handle)
    except (OSError, ValueError) as err:
        raise CommentError(f"cannot read the event payload {path}: {err}") from None
    number = (event.get("pull_request") or {}).get("number")
    return number if isinstance(number, int) else None


class GitHub:
    def __init__(self, api: str, repository: str, token: str):
        self.base = f"{api.rstrip('/')}/repos/{repository}"
        self.token = token

    @classmethod
    def from_environment(cls) -> "GitHub":
        token = os.environ.get("GITHUB_TOKEN")
        repository = os.environ.get("GITHUB_REPOSITORY")
        if not token:
            raise CommentError("GITHUB_TOKEN is not set")
        if not repository:
            raise CommentError("GITHUB_REPOSITORY is not set")
        return cls(os.environ.get("GITHUB_API_URL", "https://api.github.com"), repository, token)

    def request(self, method: str, path: str, payload: dict | None = None):
        data = json.dumps(payload).encode("utf-8") if payload is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Authorization", f"Bearer {self.token}")
        request.add_header("Accept", "application/vnd.github+json")
        request.add_header("X-GitHub-Api-Version", "2022-11-28")
        request.add_header("User-Agent", "migrasafe")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                text = answer.read().decode("utf-8")
        except urllib.error.HTTPError as err:
            if err.code in (401, 403, 404):
                raise PermissionError(f"{method} {path}: HTTP {err.code}") from None
            raise CommentError(f"{method} {path}: HTTP {err.code} {err.reason}") from None
        except (urllib.error.URLError, OSError) as err:
            raise CommentError(f"{method} {path}: {getattr(err, 'reason', err)}") from None
        return json.loads(text) if text else None


if __name__ == "__main__":
    sys.exit(main())
