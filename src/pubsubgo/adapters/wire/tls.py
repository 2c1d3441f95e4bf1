"""TLS for the broker's listeners (``server.tls_cert_file`` and ``server.tls_key_file``):
the HTTP one's context, and the gRPC one's key and certificate."""

from __future__ import annotations

import ssl

from pubsubgo.config import ConfigError
from pubsubgo.config_groups import ServerSettings


def server_tls(server: ServerSettings) -> ssl.SSLContext | None:
    """A server-side TLS context (TLS 1.2 and later) over the configured certificate and key;
    None without TLS.

    Raises:
        ConfigError: the files are not a certificate and its private key (one line).
    """
    if server.tls_cert_file is None or server.tls_key_file is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(server.tls_cert_file, server.tls_key_file)
    except (ssl.SSLError, OSError) as error:
        raise ConfigError(
            f"config error: server.tls_cert_file / server.tls_key_file: cannot load them as"
            f" a certificate and its private key ({error})"
        ) from None
    return context


def server_pem(server: ServerSettings) -> tuple[bytes, bytes] | None:
    """The private key and certificate chain (PEM), as gRPC's credentials take them; None
    without TLS. :func:`server_tls` has checked at start that they go together."""
    if server.tls_cert_file is None or server.tls_key_file is None:
        return None
    return server.tls_key_file.read_bytes(), server.tls_cert_file.read_bytes()
