"""The listening socket of `relx serve`: bound before the model loads, so a port in use fails at once."""

from __future__ import annotations

import socket


def bind(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host``:``port`` (checked before a model loads); a port in use or a host that cannot
    be bound is one RelxConfigError line."""
    import errno

    from relx.errors import RelxConfigError

    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except socket.gaierror as exc:
        raise RelxConfigError(f"cannot bind {host}:{port}: {exc.strerror}") from None
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise RelxConfigError(f"port {port} on {host} is in use") from None
        raise RelxConfigError(f"cannot bind {host}:{port}: {exc.strerror}") from None
    return sock


def url_of(host: str, port: int) -> str:
    """``http://host:port`` (an IPv6 host in brackets)."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
