"""``python -m pubsubgo``: run the broker, like ``pubsubgo-server``."""

from pubsubgo.cli.server import main

if __name__ == "__main__":
    main()
