"""PubSubGo for Python: a message broker with Redis Streams or in-memory storage."""

__version__ = "0.1.0"
