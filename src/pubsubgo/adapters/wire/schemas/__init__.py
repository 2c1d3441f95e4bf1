"""Pydantic models of the REST API: requests, responses, and the OpenAPI document built
from them. The only pydantic of the edges, with ``config.py``."""
