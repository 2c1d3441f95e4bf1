"""What the broker is measured against: redis-py on the same Redis, NATS JetStream and
RabbitMQ.

``nats_js`` and ``rabbitmq`` import clients that only the ``bench`` extra installs
(nats-py, aio-pika). They are imported where a run uses them, once ``run.py`` has found
them importable, so that a ``[dev]`` install (the tests) runs the rest of the benchmark.
"""
