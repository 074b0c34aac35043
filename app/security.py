"""Response hardening: security headers on every response, and cache headers for assets.

- Content-Security-Policy: scripts and connections from this origin only, no inline script,
  no framing. Plotly writes its own <style> elements, so styles allow 'unsafe-inline'; its PNG
  export needs data: and blob: images. The same policy covers /docs: its Swagger UI comes
  from the installed fastapi-offline package and starts from a script file.
- Static files are served twice: under /static/<asset version>/ with a one-year immutable
  cache (the version is a hash of their contents, so a change gets a new URL; ES modules import
  each other relatively and inherit it), and under /static/ revalidated on every use.
"""

import hashlib
from pathlib import Path

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
CSP_BYTES = CSP.encode()
IMMUTABLE = b"public, max-age=31536000, immutable"
REVALIDATE = b"no-cache"


def asset_version(root: Path, salt: str = "") -> str:
    """A short hash of every file under `root` (names and contents)."""
    digest = hashlib.sha256(salt.encode())
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


class SecurityHeaders:
    """Pure ASGI middleware: adds the headers to every HTTP response (streams included)."""

    def __init__(self, app, immutable_prefixes: tuple[str, ...] = ()):
        self.app = app
        self.immutable_prefixes = immutable_prefixes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope["path"]
        cache = None
        if path.startswith(self.immutable_prefixes):
            cache = IMMUTABLE
        elif path.startswith(("/static/", "/vendor/")):
            cache = REVALIDATE

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])
                           if not (cache is not None and k.lower() == b"cache-control")]
                headers += [
                    (b"content-security-policy", CSP_BYTES),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"DENY"),
                    (b"cross-origin-opener-policy", b"same-origin"),
                    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
                ]
                if cache is not None:
                    headers.append((b"cache-control", cache))
                message = {**message, "headers": headers}
            await send(message)

        return await self.app(scope, receive, send_with_headers)
