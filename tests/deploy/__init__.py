"""Deployment files (deployments/, Dockerfile, docker-compose.yml) checked against the server."""
