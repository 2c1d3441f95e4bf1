"""Prometheus metrics: the BrokerMetrics adapter, edge metrics and storage-read gauges."""
