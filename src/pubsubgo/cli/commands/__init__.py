"""The commands of ``pubsub-cli``: one module per command group."""
