"""Command-line entry points: ``pubsubgo-server`` (server.py); ``pubsub-cli`` comes later."""
