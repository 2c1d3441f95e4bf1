"""The REST API over aiohttp: ``create_app`` builds the application."""
