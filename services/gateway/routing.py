"""Which service owns a path: a pure lookup over the configured route table."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Route:
    segments: tuple[str, ...]
    service: str

    def matches(self, path_segments: list[str]) -> bool:
        if len(path_segments) < len(self.segments):
            return False
        return all(p == "*" or p == s for p, s in zip(self.segments, path_segments, strict=False))


class RouteTable:
    """Prefix patterns by segment; the most specific (longest) pattern wins."""

    def __init__(self, routes: dict[str, list[str]]) -> None:
        table = [
            Route(tuple(_segments(pattern)), service)
            for service, patterns in routes.items()
            for pattern in patterns
        ]
        self._routes = sorted(table, key=lambda route: len(route.segments), reverse=True)

    def service_for(self, path: str) -> str | None:
        segments = _segments(path)
        for route in self._routes:
            if route.matches(segments):
                return route.service
        return None


def _segments(path: str) -> list[str]:
    return [segment for segment in path.split("/") if segment]
