"""A minimal WebSocket client over a raw TCP stream, to send what no library would: text
frames that are not UTF-8, frames over the size limit, and then read the close code."""

from __future__ import annotations

import asyncio
import base64
import os
import struct

#: The opcodes of RFC 6455 used here.
TEXT, CLOSE = 0x1, 0x8


def upgrade_request(host: str, port: int, path: str = "/v1/ws") -> bytes:
    """The HTTP request that asks to upgrade a connection to a WebSocket."""
    key = base64.b64encode(os.urandom(16)).decode()
    return (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n"
    ).encode()


class RawSocket:
    """One upgraded connection; ``frame`` sends anything, ``close_code`` waits for the end."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    @classmethod
    async def connect(cls, host: str, port: int, path: str = "/v1/ws") -> RawSocket:
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(upgrade_request(host, port, path))
        status = await reader.readline()
        if b" 101 " not in status:
            raise ConnectionError(f"the upgrade was refused: {status!r}")
        await reader.readuntil(b"\r\n\r\n")
        return cls(reader, writer)

    async def frame(self, payload: bytes, opcode: int = TEXT) -> None:
        """Send one masked, final frame (clients must mask, RFC 6455 §5.3)."""
        mask = os.urandom(4)
        size = len(payload)
        if size < 126:
            head = struct.pack("!BB", 0x80 | opcode, 0x80 | size)
        elif size < 2**16:
            head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, size)
        else:
            head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, size)
        key = (mask * (size // 4 + 1))[:size]
        masked = (int.from_bytes(payload) ^ int.from_bytes(key)).to_bytes(size)
        self._writer.write(head + mask + masked)
        await self._writer.drain()

    async def close_code(self) -> int:
        """Read frames until the server's close frame; its status code."""
        while True:
            first, second = await self._reader.readexactly(2)
            size = second & 0x7F
            if size == 126:
                size = struct.unpack("!H", await self._reader.readexactly(2))[0]
            elif size == 127:
                size = struct.unpack("!Q", await self._reader.readexactly(8))[0]
            payload = await self._reader.readexactly(size)
            if first & 0x0F == CLOSE:
                code: int = struct.unpack("!H", payload[:2])[0]
                return code

    async def aclose(self) -> None:
        self._writer.close()
        await self._writer.wait_closed()
