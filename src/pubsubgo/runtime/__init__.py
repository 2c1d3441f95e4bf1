"""Runtime: what keeps the broker going between requests (clocks, heartbeats, the periodic
duties, rates), over the services and ports alone, with no framework."""
