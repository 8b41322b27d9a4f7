"""The Helm chart: lint, render, and validate every manifest against its schema.

Built-in kinds are validated with kubernetes-validate (strict: unknown fields
fail). Custom resources are validated against the ``openAPIV3Schema`` of
their CRDs, kept unmodified in ``crds/``. Each values file of ``ci/`` and the
default values are rendered.
"""

from __future__ import annotations

import json
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]  # stubs are not a dev dependency
import kubernetes_validate  # type: ignore[import-untyped]  # ships no py.typed
import pytest
import yaml

from streams.config import parse_config

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "helm" / "seawall"
CRDS = Path(__file__).parent / "crds"
# helm builds with client-go 0.36 (see scripts/ensure-helm.sh).
KUBERNETES_VERSION = "1.36.0"
VALUES_FILES = [None, "minimal", "production", "autoscaling"]
ALERTS = {
    "SeawallLagHigh",
    "SeawallLagGrowing",
    "SeawallDeadLetters",
    "SeawallAuditSendFailures",
    "SeawallWorkerDown",
    "SeawallStalled",
}


def _values_args(values: str | None) -> list[str]:
    """Return the -f option of a ci/ values file, or nothing for the defaults."""
    return [] if values is None else ["-f", str(CHART / "ci" / f"{values}-values.yaml")]


def _run(helm: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run helm and return the completed process."""
    return subprocess.run(
        [helm, *args], capture_output=True, text=True, timeout=120, check=False
    )


def _render(helm: str, *args: str) -> list[dict[str, Any]]:
    """Render the chart as release "seawall" and return its manifests."""
    result = _run(helm, "template", "seawall", str(CHART), *args)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def _find(manifests: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    """Return the manifests of one kind."""
    return [m for m in manifests if m["kind"] == kind]


def _crd_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """Return the openAPIV3Schema of each CRD version, by (apiVersion, kind)."""
    schemas = {}
    for file in CRDS.glob("*.yaml"):
        crd = yaml.safe_load(file.read_text(encoding="utf-8"))
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            schema = version["schema"]["openAPIV3Schema"]
            schemas[(f"{group}/{version['name']}", kind)] = schema
    return schemas


def _validate(manifest: dict[str, Any], crds: dict[tuple[str, str], Any]) -> None:
    """Validate one manifest against its Kubernetes or CRD schema."""
    key = (manifest["apiVersion"], manifest["kind"])
    if key in crds:
        # No check_schema: CRD patterns use Go's regexp syntax, such as a
        # (?i) flag after ^, which Python's re rejects in a schema check.
        jsonschema.Draft7Validator(crds[key]).validate(manifest)
        return
    kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)


@pytest.fixture(scope="module")
def crds() -> dict[tuple[str, str], dict[str, Any]]:
    return _crd_schemas()


@pytest.mark.parametrize("values", VALUES_FILES, ids=lambda v: v or "default")
def test_lint_strict(helm: str, values: str | None) -> None:
    result = _run(helm, "lint", "--strict", str(CHART), *_values_args(values))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("values", VALUES_FILES, ids=lambda v: v or "default")
def test_manifests_match_schemas(
    helm: str, values: str | None, crds: dict[tuple[str, str], Any]
) -> None:
    manifests = _render(helm, *_values_args(values))
    assert manifests
    for manifest in manifests:
        try:
            _validate(manifest, crds)
        except (
            kubernetes_validate.ValidationError,
            jsonschema.ValidationError,
        ) as err:
            pytest.fail(f"{manifest['kind']} {manifest['metadata']['name']}: {err}")


@pytest.mark.parametrize("values", VALUES_FILES, ids=lambda v: v or "default")
def test_worker_config_is_valid(helm: str, values: str | None, tmp_path: Path) -> None:
    (config_map,) = [
        m
        for m in _find(_render(helm, *_values_args(values)), "ConfigMap")
        if "config.yaml" in m["data"]
    ]
    document = yaml.safe_load(config_map["data"]["config.yaml"])
    # The image's schema folder is the repository's schemas/.
    document["schemas"]["directory"] = str(REPO / "schemas")
    # The TLS files come from a Secret in the pod; parse_config checks that
    # they exist, so stand-ins take their place here.
    for name, path in document["kafka"].get("ssl", {}).items():
        assert path.startswith("/etc/seawall/kafka-tls/")
        (tmp_path / name).write_text("stand-in")
        document["kafka"]["ssl"][name] = str(tmp_path / name)
    config = parse_config(document, base_dir=REPO)
    assert config.keys_file == Path("/etc/seawall/keys/keys.json")
    # A pod must listen on all interfaces for the kubelet's probes.
    assert document["metrics"] == {"port": 9400, "host": "0.0.0.0"}  # noqa: S104


def test_defaults_render_every_kind(helm: str) -> None:
    kinds = sorted(m["kind"] for m in _render(helm))
    assert kinds == [
        "ConfigMap",
        "Deployment",
        "PodDisruptionBudget",
        "Service",
        "ServiceAccount",
    ]


def test_replicas_bounded_by_partitions(helm: str) -> None:
    result = _run(
        helm,
        "template",
        "seawall",
        str(CHART),
        "--set",
        "replicaCount=7",
        "--set",
        "kafka.sourcePartitions=6",
    )
    assert result.returncode != 0
    assert "replicaCount (7) exceeds kafka.sourcePartitions (6)" in result.stderr


def test_keda_max_bounded_by_partitions(helm: str) -> None:
    result = _run(
        helm,
        "template",
        "seawall",
        str(CHART),
        "--set",
        "autoscaling.keda.enabled=true",
        "--set",
        "autoscaling.keda.maxReplicas=9",
        "--set",
        "kafka.sourcePartitions=8",
    )
    assert result.returncode != 0
    assert "maxReplicas (9) exceeds kafka.sourcePartitions (8)" in result.stderr


def test_keda_min_replicas_zero_rejected(helm: str) -> None:
    result = _run(
        helm,
        "template",
        "seawall",
        str(CHART),
        "--set",
        "autoscaling.keda.minReplicas=0",
    )
    assert result.returncode != 0
    assert "minReplicas" in result.stderr


@pytest.mark.parametrize("kind", ["ServiceMonitor", "PodMonitor"])
def test_monitor_switch_renders_one_kind(helm: str, kind: str) -> None:
    manifests = _render(
        helm,
        "--set",
        "metrics.monitor.enabled=true",
        "--set",
        f"metrics.monitor.kind={kind}",
    )
    monitors = [m for m in manifests if m["kind"] in ("ServiceMonitor", "PodMonitor")]
    assert [m["kind"] for m in monitors] == [kind]


def test_monitor_kind_both_rejected(helm: str) -> None:
    result = _run(
        helm,
        "template",
        "seawall",
        str(CHART),
        "--set",
        "metrics.monitor.enabled=true",
        "--set",
        "metrics.monitor.kind=Both",
    )
    assert result.returncode != 0
    assert "/metrics/monitor/kind" in result.stderr


def test_monitor_labels_and_job(helm: str) -> None:
    manifests = _render(helm, *_values_args("production"))
    (monitor,) = _find(manifests, "PodMonitor")
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
    assert endpoint["port"] == "metrics"
    assert {"action": "replace", "targetLabel": "job", "replacement": "seawall"} in (
        endpoint["relabelings"]
    )


def test_prometheus_rule_is_project_rules(helm: str) -> None:
    manifests = _render(helm, *_values_args("production"))
    (rule,) = _find(manifests, "PrometheusRule")
    source = yaml.safe_load(
        (REPO / "deploy" / "prometheus" / "seawall-alerts.yml").read_text("utf-8")
    )
    assert rule["spec"]["groups"] == source["groups"]
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    names = {r.get("alert") for g in rule["spec"]["groups"] for r in g["rules"]}
    assert names >= ALERTS


def test_dashboard_is_project_dashboard(helm: str) -> None:
    manifests = _render(helm, *_values_args("production"))
    (dashboard,) = [
        m
        for m in _find(manifests, "ConfigMap")
        if m["metadata"]["name"].endswith("-dashboard")
    ]
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert dashboard["metadata"]["namespace"] == "monitoring"
    rendered = json.loads(dashboard["data"]["seawall-dashboard.json"])
    source = json.loads(
        (REPO / "deploy" / "grafana" / "seawall-dashboard.json").read_text("utf-8")
    )
    assert rendered == source


def test_package_includes_linked_files(helm: str, tmp_path: Path) -> None:
    result = _run(helm, "package", str(CHART), "--destination", str(tmp_path))
    assert result.returncode == 0, result.stderr
    (archive,) = tmp_path.glob("seawall-*.tgz")
    with tarfile.open(archive) as tar:
        member = tar.extractfile("seawall/files/seawall-alerts.yml")
        assert member is not None
        packaged = member.read()
    assert (
        packaged == (REPO / "deploy" / "prometheus" / "seawall-alerts.yml").read_bytes()
    )


def _pod_spec(manifests: list[dict[str, Any]]) -> dict[str, Any]:
    (deployment,) = _find(manifests, "Deployment")
    spec: dict[str, Any] = deployment["spec"]["template"]["spec"]
    return spec


def _containers(spec: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from spec["initContainers"]
    yield from spec["containers"]


def test_pod_security_restricted(helm: str) -> None:
    spec = _pod_spec(_render(helm))
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert spec["automountServiceAccountToken"] is False
    for container in _containers(spec):
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False, container["name"]
        assert context["readOnlyRootFilesystem"] is True, container["name"]
        assert context["capabilities"] == {"drop": ["ALL"]}, container["name"]
        assert context["runAsNonRoot"] is True, container["name"]


def test_keyring_copy_owner_only(helm: str) -> None:
    spec = _pod_spec(_render(helm))
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes["keyring-secret"]["secret"]["secretName"] == "seawall-keyring"
    assert volumes["keyring-secret"]["secret"]["defaultMode"] == 0o400
    assert volumes["keyring"]["emptyDir"]["medium"] == "Memory"
    (copy,) = spec["initContainers"]
    assert copy["command"][:3] == ["install", "-m", "0400"]
    # The copy runs as the worker's uid, so the worker owns the file.
    (worker,) = spec["containers"]
    assert (
        copy["securityContext"]["runAsUser"] == worker["securityContext"]["runAsUser"]
    )
    # fsGroup lets the init container read the Secret (mode 0440 with it).
    assert spec["securityContext"]["fsGroup"] == 10001
    mounts = {m["name"]: m for m in worker["volumeMounts"]}
    assert mounts["keyring"] == {
        "name": "keyring",
        "mountPath": "/etc/seawall/keys",
        "readOnly": True,
    }
    assert "keyring-secret" not in mounts


def test_worker_probes_and_tmp(helm: str) -> None:
    spec = _pod_spec(_render(helm))
    (worker,) = spec["containers"]
    assert worker["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "metrics"}
    assert worker["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "metrics"}
    assert worker["ports"] == [
        {"name": "metrics", "containerPort": 9400, "protocol": "TCP"}
    ]
    assert {"name": "tmp", "mountPath": "/tmp"} in worker["volumeMounts"]
    assert worker["resources"]["limits"]["memory"] == "1Gi"


def test_keda_scaled_object(helm: str) -> None:
    manifests = _render(helm, *_values_args("autoscaling"))
    (deployment,) = _find(manifests, "Deployment")
    assert "replicas" not in deployment["spec"]
    (scaled,) = _find(manifests, "ScaledObject")
    spec = scaled["spec"]
    assert spec["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    assert (spec["minReplicaCount"], spec["maxReplicaCount"]) == (2, 8)
    assert spec["cooldownPeriod"] >= 900
    behavior = spec["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]
    assert behavior["scaleDown"]["stabilizationWindowSeconds"] >= 900
    assert behavior["scaleDown"]["policies"] == [
        {"type": "Pods", "value": 1, "periodSeconds": 600}
    ]
    topics = [t["metadata"]["topic"] for t in spec["triggers"]]
    assert topics == ["cn.crm.customers", "cn.crm.orders"]
    for trigger in spec["triggers"]:
        assert trigger["type"] == "kafka"
        assert trigger["metadata"]["consumerGroup"] == "seawall"
        assert trigger["metadata"]["lagThreshold"] == "5000"
    assert not _find(manifests, "TriggerAuthentication")


def test_keda_authentication_with_tls_sasl(helm: str) -> None:
    manifests = _render(
        helm,
        *_values_args("production"),
        "--set",
        "autoscaling.keda.enabled=true",
        "--set",
        "autoscaling.keda.maxReplicas=12",
    )
    (auth,) = _find(manifests, "TriggerAuthentication")
    parameters = {ref["parameter"] for ref in auth["spec"]["secretTargetRef"]}
    assert parameters == {"username", "password", "ca", "cert", "key"}
    (scaled,) = _find(manifests, "ScaledObject")
    for trigger in scaled["spec"]["triggers"]:
        assert trigger["metadata"]["tls"] == "enable"
        assert trigger["metadata"]["sasl"] == "scram_sha512"
        assert trigger["authenticationRef"]["name"] == auth["metadata"]["name"]


def test_config_change_rolls_pods(helm: str) -> None:
    def checksum(*args: str) -> str:
        (deployment,) = _find(_render(helm, *args), "Deployment")
        value: str = deployment["spec"]["template"]["metadata"]["annotations"][
            "checksum/config"
        ]
        return value

    assert checksum() != checksum("--set", "config.auditTopic=cn.seawall.audit2")


def test_production_worker_connects_with_sasl_ssl(helm: str) -> None:
    manifests = _render(helm, *_values_args("production"))
    (config_map,) = [
        m for m in _find(manifests, "ConfigMap") if "config.yaml" in m["data"]
    ]
    kafka = yaml.safe_load(config_map["data"]["config.yaml"])["kafka"]
    (deployment,) = _find(manifests, "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    (worker,) = [c for c in pod["containers"] if c["name"] == "worker"]
    env = {e["name"]: e for e in worker["env"]}
    mounts = {m["name"]: m for m in worker["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}

    assert kafka["security_protocol"] == "SASL_SSL"
    assert kafka["sasl"]["mechanism"] == "SCRAM-SHA-512"
    assert kafka["sasl"]["password_env"] == "SEAWALL_KAFKA_SASL_PASSWORD"
    assert "password" not in kafka["sasl"]
    secret_ref = env["SEAWALL_KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"]
    assert secret_ref == {"name": "seawall-kafka-user", "key": "password"}
    assert kafka["ssl"]["ca_file"] == "/etc/seawall/kafka-tls/ca.crt"
    assert mounts["kafka-tls"]["readOnly"] is True
    assert volumes["kafka-tls"]["secret"]["secretName"] == "kafka-client-tls"


def test_sasl_without_tls_fails(helm: str) -> None:
    result = _run(
        helm,
        "template",
        "seawall",
        str(CHART),
        "--set",
        "kafka.sasl.enabled=true",
        "--set",
        "kafka.sasl.existingSecret=user",
        "--set",
        "kafka.sasl.username=seawall",
    )

    assert result.returncode != 0
    assert "SASL_SSL" in result.stderr
