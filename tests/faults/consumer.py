"""A consumer that takes messages and never settles them, until it is killed.

``python -m tests.faults.consumer URL SUBSCRIPTION ws|pull COUNT`` receives COUNT messages
(over a WebSocket, or by HTTP pulls), prints ``holding COUNT`` and waits forever: the fault
tests kill it with SIGKILL, as a crashed consumer would die.
"""

from __future__ import annotations

import asyncio
import sys

import aiohttp

#: How long one pull waits for messages.
PULL_WAIT_SECONDS = 5


async def hold_over_websocket(http: aiohttp.ClientSession, url: str, sub: str, count: int) -> int:
    ws = await http.ws_connect(f"{url}/v1/ws")
    await ws.send_json({"type": "subscribe", "subscription": sub, "max_in_flight": count})
    held = 0
    async for message in ws:
        if message.json()["type"] == "message":
            held += 1
            if held == count:
                return held
    raise SystemExit("the socket closed before the messages came")


async def hold_by_pulling(http: aiohttp.ClientSession, url: str, sub: str, count: int) -> int:
    held = 0
    while held < count:
        body = {"max_messages": count - held, "wait_seconds": PULL_WAIT_SECONDS}
        async with http.post(f"{url}/v1/subscriptions/{sub}/pull", json=body) as response:
            held += len((await response.json())["messages"])
    return held


async def main(url: str, sub: str, mode: str, count: int) -> None:
    async with aiohttp.ClientSession() as http:
        hold = hold_over_websocket if mode == "ws" else hold_by_pulling
        held = await hold(http, url, sub, count)
        print(f"holding {held}", flush=True)
        await asyncio.Event().wait()  # until SIGKILL


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])))
