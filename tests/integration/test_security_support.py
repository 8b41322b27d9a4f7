"""Helpers of the security, outage and shutdown tests; this module has no tests.

They generate TLS certificates with `cryptography`, write worker
configurations, produce sample records, run ``seawall worker`` as a child
process and read its audit events and committed offsets back.
"""

from __future__ import annotations

import datetime
import ipaddress
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import yaml
from confluent_kafka import Consumer, Producer, TopicPartition
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from streams.config import load_config
from streams.demo import read_all
from streams.engine import MaskingEngine
from streams.keys import Keyring
from streams.sample_data import SampleGenerator

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Certificates:
    """PEM files of a test CA, a broker and a client certificate."""

    ca: Path
    broker_keystore: Path
    client_cert: Path
    client_key: Path


def make_certificates(folder: Path) -> Certificates:
    """Generate a CA and a broker and client certificate signed by it."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Seawall test CA")])
    ca_cert = (
        _builder(ca_name, ca_name, ca_key)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    broker_key = ec.generate_private_key(ec.SECP256R1())
    broker_cert = (
        _builder(_name("localhost"), ca_name, broker_key)
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                ]
            ),
            critical=False,
        )
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    client_key = ec.generate_private_key(ec.SECP256R1())
    client_cert = (
        _builder(_name("seawall-worker"), ca_name, client_key)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    files = Certificates(
        ca=folder / "ca.pem",
        broker_keystore=folder / "broker-keystore.pem",
        client_cert=folder / "client.pem",
        client_key=folder / "client-key.pem",
    )
    files.ca.write_bytes(_pem(ca_cert))
    # Kafka's PEM key store: the PKCS#8 key, then the chain from the leaf up.
    files.broker_keystore.write_bytes(
        _key_pem(broker_key) + _pem(broker_cert) + _pem(ca_cert)
    )
    files.client_cert.write_bytes(_pem(client_cert))
    files.client_key.write_bytes(_key_pem(client_key))
    return files


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _builder(
    subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePrivateKey
) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
    )


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@dataclass
class Pipeline:
    """Topics, keys and configuration of one worker under test."""

    folder: Path
    topics: dict[str, str]
    engine: MaskingEngine
    config_path: Path

    @property
    def group_id(self) -> str:
        return load_config(self.config_path).kafka.group_id


def topic_names() -> dict[str, str]:
    """Return new unique names of a route's source, destination, audit and DLQ."""
    suffix = uuid.uuid4().hex[:8]
    return {
        "source": f"cn.crm.customers.{suffix}",
        "destination": f"xb.crm.customers.{suffix}",
        "audit": f"cn.seawall.audit.{suffix}",
        "dlq": f"cn.seawall.dlq.{suffix}",
    }


def make_pipeline(
    folder: Path,
    topics: dict[str, str],
    kafka: dict[str, Any],
    worker: dict[str, Any] | None = None,
    metrics_port: int | None = None,
) -> Pipeline:
    """Write a keyring and a one-route worker configuration into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    Keyring.generate("test").save(folder / "keys.json")
    config = {
        "kafka": {"group_id": f"test-{uuid.uuid4().hex[:8]}", **kafka},
        "schemas": {"directory": str(REPO / "schemas")},
        "keys": {"file": "keys.json"},
        "metrics": {"port": metrics_port, "host": "127.0.0.1"},
        "worker": worker or {},
        "audit_topic": topics["audit"],
        "dead_letter_topic": topics["dlq"],
        "routes": [
            {
                "name": "customers",
                "source": topics["source"],
                "destination": topics["destination"],
            }
        ],
    }
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    engine = MaskingEngine.from_config(load_config(path))
    return Pipeline(folder, topics, engine, path)


def produce(pipeline: Pipeline, bootstrap: str, count: int, seed: int = 1) -> None:
    """Produce `count` generated customers to the source topic and wait for acks."""
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
    errors: list[str] = []

    def delivered(err: Any, _msg: Any) -> None:
        if err is not None:
            errors.append(str(err))

    generator = SampleGenerator(seed=seed)
    for _ in range(count):
        value = pipeline.engine.encode("crm.Customer", generator.customer())
        producer.produce(pipeline.topics["source"], value=value, on_delivery=delivered)
        producer.poll(0)
    assert producer.flush(60) == 0
    assert errors == []


def start_worker(pipeline: Pipeline, log: IO[bytes]) -> subprocess.Popen[bytes]:
    """Start ``seawall worker`` on the pipeline's configuration."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streams.cli",
            "worker",
            "--config",
            str(pipeline.config_path),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def audit_sources(pipeline: Pipeline, bootstrap: str) -> Counter[tuple[int, int]]:
    """Count audit events by the ``(partition, offset)`` of their source record."""
    events = (
        pipeline.engine.decode_audit(m.value())
        for m in read_all(bootstrap, pipeline.topics["audit"])
    )
    return Counter((e["source_partition"], e["source_offset"]) for e in events)


def wait_for_audit(
    pipeline: Pipeline,
    bootstrap: str,
    expected: int,
    timeout: float,
    worker: subprocess.Popen[bytes] | None = None,
) -> int:
    """Poll the audit topic until it has `expected` events; return the count."""
    deadline = time.monotonic() + timeout
    count = 0
    while time.monotonic() < deadline:
        count = sum(audit_sources(pipeline, bootstrap).values())
        if count >= expected:
            return count
        if worker is not None and worker.poll() is not None:
            return count
        time.sleep(0.5)  # poll interval; the loop is bounded by the deadline
    return count


def committed_offsets(
    pipeline: Pipeline, bootstrap: str, partitions: int
) -> dict[int, int]:
    """Return the group's committed offset of each source partition."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": pipeline.group_id})
    try:
        wanted = [
            TopicPartition(pipeline.topics["source"], p) for p in range(partitions)
        ]
        return {tp.partition: tp.offset for tp in consumer.committed(wanted, 30)}
    finally:
        consumer.close()
