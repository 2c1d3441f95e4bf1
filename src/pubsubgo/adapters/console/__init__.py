"""The web console: static files (HTML, JavaScript modules, CSS) served at ``/console`` that
use only the public REST and WebSocket API, with the token the user enters."""
