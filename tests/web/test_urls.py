"""The root URL configuration: the API is tried first, and that cannot change which view a path
reaches, since no page's pattern can match a path under api/."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, get_resolver, resolve


def _routes(patterns: list[URLPattern | URLResolver], prefix: str = "") -> list[str]:
    out: list[str] = []
    for p in patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            out.extend(_routes(p.url_patterns, route))
        else:
            out.append(route)
    return out


def test_the_api_is_the_first_pattern() -> None:
    first = get_resolver().url_patterns[0]
    assert isinstance(first, URLResolver)
    assert str(first.pattern) == "api/v1/"
    assert resolve("/api/v1/safety/adverse-events").namespace == "api-v1"


def test_no_other_pattern_can_match_a_path_under_api() -> None:
    others = [r for p in get_resolver().url_patterns[1:] for r in _routes([p])]
    assert len(others) > 100  # the pages' patterns, admin included
    # A route starting with a converter (or a regular expression) could match "api/...";
    # every other route starts with its own literal text.
    leading = [r for r in others if r.startswith(("<", "^", "(")) or r.startswith("api")]
    assert leading == []
