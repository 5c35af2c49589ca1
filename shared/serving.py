"""How uvicorn serves a service: no server banner, TLS when configured, trusted proxies only."""

from typing import Any

from shared.settings import ServiceSettings


def uvicorn_options(settings: ServiceSettings, *, host: str, port: int) -> dict[str, Any]:
    """Keyword arguments for `uvicorn.run`/`uvicorn.Config` from a service's settings."""
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "access_log": False,
        # `server: uvicorn` tells an attacker which exploits to try; say nothing.
        "server_header": False,
        # X-Forwarded-For/-Proto are believed only from these addresses (the reverse proxy),
        # so the caller address that per-caller limits key on cannot be spoofed.
        "proxy_headers": True,
        "forwarded_allow_ips": settings.forwarded_allow_ips,
    }
    if settings.tls_certificate_file and settings.tls_private_key_file:
        options["ssl_certfile"] = str(settings.tls_certificate_file)
        options["ssl_keyfile"] = str(settings.tls_private_key_file)
    return options
