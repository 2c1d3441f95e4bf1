"""WebSocket subscriptions (DESIGN §4): ``GET /v1/ws``."""
