"""Schemas of the wire: requests, responses and frames as msgspec Structs, and the OpenAPI
document built from them. The one definition of each shape every edge reads and writes."""
