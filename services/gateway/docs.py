"""Swagger UI over the merged document, served from the pinned `swagger-ui-bundle-v2` package
(no CDN: deployments and this project's machines may not reach one)."""

from pathlib import Path

import swagger_ui_bundle
from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse

from shared.problems import NotFound

ASSETS = Path(str(swagger_ui_bundle.swagger_ui_path))
SERVED_ASSETS = {
    "swagger-ui.css": "text/css",
    "swagger-ui-bundle.js": "text/javascript",
    "favicon-32x32.png": "image/png",
}

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Locality Hub API</title>
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
  <link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({
      url: "/openapi.json",
      dom_id: "#swagger-ui",
      deepLinking: true,
      docExpansion: "list",
      persistAuthorization: true,
      presets: [SwaggerUIBundle.presets.apis],
    });
  </script>
</body>
</html>
"""


def docs_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/docs")
    async def swagger_ui() -> HTMLResponse:
        """Swagger UI over /openapi.json."""
        return HTMLResponse(PAGE)

    @router.get("/docs/assets/{name}")
    async def swagger_ui_asset(name: str) -> FileResponse:
        """A Swagger UI file from the pinned package."""
        media_type = SERVED_ASSETS.get(name)
        if media_type is None:
            raise NotFound(f"No asset {name!r}.")
        headers = {"Cache-Control": "public, max-age=86400"}
        return FileResponse(ASSETS / name, media_type=media_type, headers=headers)

    return router
