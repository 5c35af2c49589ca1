"""Wiring of the gateway: `uvicorn services.gateway.main:create_app --factory`."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from services.gateway.config import Settings
from services.gateway.proxy import UpstreamProxy
from services.gateway.routing import RouteTable
from shared.middleware import RequestContextMiddleware
from shared.problems import install_problem_handlers, problem_response

PROXIED_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    routes = RouteTable(settings.routes)
    proxy = UpstreamProxy(
        settings.upstreams(),
        connect_timeout_s=settings.connect_timeout_s,
        read_timeout_s=settings.read_timeout_s,
        max_connections=settings.max_connections,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await proxy.start()
        try:
            yield
        finally:
            await proxy.close()

    app = FastAPI(
        title="Locality Hub API",
        description="One front door to referrals, action plans and metrics.",
        version="1.0.0",
        lifespan=lifespan,
    )
    app.add_middleware(RequestContextMiddleware)
    install_problem_handlers(app)

    @app.get("/livez", tags=["health"])
    async def livez() -> dict[str, str]:
        """The gateway process answers."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"])
    async def readyz() -> JSONResponse:
        """Ready when every upstream service reports ready."""
        results = await asyncio.gather(
            *(_upstream_ready(proxy, name) for name in settings.upstreams())
        )
        checks = dict(zip(settings.upstreams(), results, strict=True))
        ready = all(checks.values())
        body = {
            "status": "ready" if ready else "not ready",
            "checks": {name: "ok" if ok else "failing" for name, ok in checks.items()},
        }
        return JSONResponse(body, status_code=200 if ready else 503)

    @app.api_route("/api/{path:path}", methods=PROXIED_METHODS, include_in_schema=False)
    async def forward(request: Request, path: str) -> Response:
        service = routes.service_for(request.url.path)
        if service is None:
            return problem_response(
                404,
                "Not found",
                f"No service serves {request.url.path}.",
                slug="no-route",
                instance=request.url.path,
            )
        return await proxy.forward(request, service)

    return app


async def _upstream_ready(proxy: UpstreamProxy, service: str) -> bool:
    try:
        async with proxy.session.get(proxy.base_url(service) + "/readyz") as response:
            return response.status == 200
    except Exception:
        return False
