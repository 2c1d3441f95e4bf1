"""The wire layer every edge shares: request, response and frame schemas, the error shape
and its mapping, access checks, and the keys under which an edge finds the broker. It
imports no edge; REST, WebSocket, gRPC and the console import it."""
