"""Route handlers, one module per resource; each module's ``routes`` table lists them."""
