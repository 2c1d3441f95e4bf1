"""Ports: the interfaces the services need from storage, time and metrics."""
