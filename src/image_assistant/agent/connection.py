"""Which servers the agent talks to, and how: HTTPS unless the server is this machine, and the
certificates it trusts (the usual public ones, plus a private CA when given one)."""

from __future__ import annotations

import ipaddress
import ssl
from urllib.parse import urlsplit

import certifi

from image_assistant.agent.errors import CertificateRejected, InsecureServer

CA_BUNDLE_ENV = "IMAGE_ASSISTANT_AGENT_CA_BUNDLE"


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def checked_server_url(url: str, *, allow_http: bool) -> str:
    """The server's URL without a trailing slash, or InsecureServer before any connection."""
    parts = urlsplit(url.strip())
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host:
        raise InsecureServer(f"not a server address: {url!r} (expected https://HOST[:PORT])")
    if parts.scheme == "http" and not allow_http and not is_loopback(host):
        raise InsecureServer(
            f"refusing plain http:// to {host}: your photos and this device's token would cross the "
            "network unencrypted; use https:// (or --allow-http on a network you trust)"
        )
    return url.strip().rstrip("/")


def tls_context(ca_bundle: str | None) -> ssl.SSLContext:
    """The public CAs (certifi), plus the private CA in `ca_bundle` when given."""
    context = ssl.create_default_context(cafile=certifi.where())
    if ca_bundle:
        try:
            context.load_verify_locations(cafile=ca_bundle)
        except (OSError, ssl.SSLError) as exc:
            raise CertificateRejected(f"cannot read the CA bundle {ca_bundle}: {exc}") from None
    return context


def certificate_problem(exc: BaseException) -> CertificateRejected | None:
    """A certificate the server showed and we do not trust, found in an httpx error's causes."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            reason = seen.verify_message or seen.reason or "certificate verify failed"
            return CertificateRejected(
                f"the server's certificate is not trusted ({reason}); if a private CA signed it, "
                f"pass --ca-bundle FILE (or set {CA_BUNDLE_ENV})"
            )
        seen = seen.__cause__ or seen.__context__
    return None
