"""Command-line entry points: ``pubsubgo-server`` (server.py) and ``pubsub-cli`` (main.py)."""
