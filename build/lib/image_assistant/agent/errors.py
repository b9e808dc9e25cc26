"""Every failure the agent reports to its user, each saying what to do.

AgentError
 ├── NotPaired          no pairing or token in the config dir
 ├── DeviceRevoked      401: the token no longer works; pair again
 ├── ServerUnreachable  network errors or 5xx for longer than the retry window
 ├── RequestRejected    any other 4xx, with the server's error code and message
 ├── InsecureServer     http:// to a host that is not this machine, without --allow-http
 ├── CertificateRejected  the server's TLS certificate is not trusted (not retried)
 ├── SourceUnreadable   the library or folder cannot be read at all
 └── AlreadyRunning     another agent process holds this config dir

Stopped is not a failure: a stop was asked for (SIGTERM, Ctrl-C) and the pass ended at a safe
point; the next one picks up the rest.
"""

from __future__ import annotations


class AgentError(Exception):
    """Base of every failure the agent reports to its user."""


class NotPaired(AgentError):
    pass


class DeviceRevoked(AgentError):
    pass


class ServerUnreachable(AgentError):
    pass


class RequestRejected(AgentError):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{message} ({code})")
        self.status = status
        self.code = code
        self.message = message


class InsecureServer(AgentError):
    pass


class CertificateRejected(AgentError):
    pass


class SourceUnreadable(AgentError):
    pass


class AlreadyRunning(AgentError):
    pass


class Stopped(Exception):
    """A pass ended early because a stop was asked for."""
