"""Local infrastructure for the demo and the tests: a Kafka broker and its jars.

Nothing in this package runs in production. It starts and stops helper
servers on 127.0.0.1 and downloads their jars from Maven Central.
"""

from streams.ops.kafka import KafkaStatus, LocalKafka, LocalKafkaError, PortInUseError
from streams.ops.maven import ToolchainError

__all__ = [
    "KafkaStatus",
    "LocalKafka",
    "LocalKafkaError",
    "PortInUseError",
    "ToolchainError",
]
