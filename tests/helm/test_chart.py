"""The Helm chart renders what a safe production deployment needs, refuses broken combinations,
and its alerts and dashboard only use metrics the relay really exports.

Why: a chart is code nobody runs until the day of the rollout. These checks catch a missing
security setting, a grace period shorter than the drain, a Secret reference that does not match
the config's ``token_env``, a KEDA object that would scale past the partition count, or an
alert on a metric that was renamed (and so never fires).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from consumer.observability import metrics
from tests.helm.conftest import CHART, ROOT, Render, run_helm

KEDA_VALUES = str(CHART / "ci" / "keda-values.yaml")
HPA_VALUES = str(CHART / "ci" / "hpa-values.yaml")


def by_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    """Every manifest of one kind."""
    return [d for d in docs if d.get("kind") == kind]


def one(docs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    """The single manifest of a kind."""
    found = by_kind(docs, kind)
    assert len(found) == 1, f"expected one {kind}, got {len(found)}"
    return found[0]


def relay_config(docs: list[dict[str, Any]]) -> dict[str, Any]:
    """The relay's config.yaml from the ConfigMap."""
    cm = next(d for d in by_kind(docs, "ConfigMap") if "config.yaml" in d["data"])
    loaded: dict[str, Any] = yaml.safe_load(cm["data"]["config.yaml"])
    return loaded


def container(docs: list[dict[str, Any]]) -> dict[str, Any]:
    """The relay container of the Deployment."""
    spec = one(docs, "Deployment")["spec"]["template"]["spec"]
    (relay,) = spec["containers"]
    return dict(relay)


def test_default_deployment_is_locked_down(render: Render) -> None:
    """Non-root, read-only root filesystem, no privilege escalation, no capabilities, seccomp."""
    docs = render()
    pod = one(docs, "Deployment")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    sc = container(docs)["securityContext"]
    assert sc["runAsNonRoot"] is True
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
    relay = container(docs)
    assert relay["resources"]["requests"] and relay["resources"]["limits"]["memory"]
    mounts = {m["name"]: m for m in relay["volumeMounts"]}
    assert mounts["tmp"]["mountPath"] == "/tmp"
    assert mounts["config"]["readOnly"] is True
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "emptyDir" in volumes["tmp"] and "emptyDir" in volumes["data"]
    assert relay_config(docs)["store"]["sqlite_path"].startswith(mounts["data"]["mountPath"] + "/")


def test_probes_and_grace_period(render: Render) -> None:
    """Liveness on /healthz, readiness on /readyz, and the grace period outlasts the drain."""
    docs = render()
    relay = container(docs)
    port = relay["ports"][0]
    assert port["name"] == "metrics" and port["containerPort"] == 9400
    assert relay["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "metrics"}
    assert relay["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "metrics"}
    assert relay["startupProbe"]["httpGet"]["path"] == "/healthz"
    pod = one(docs, "Deployment")["spec"]["template"]["spec"]
    config = relay_config(docs)
    assert config["consumer"]["drain_deadline_s"] == 25
    assert pod["terminationGracePeriodSeconds"] == 40
    assert config["observability"]["http_port"] == 9400
    assert config["observability"]["http_host"] == "0.0.0.0"
    assert relay["args"] == ["run", "--config", "/etc/capi-relay/config.yaml"]
    service = one(docs, "Service")
    assert service["spec"]["ports"][0]["targetPort"] == "metrics"
    assert one(docs, "PodDisruptionBudget")["spec"]["maxUnavailable"] == 1
    assert one(docs, "Deployment")["spec"]["replicas"] == 2
    assert not by_kind(docs, "ScaledObject") and not by_kind(docs, "HorizontalPodAutoscaler")


def test_tokens_come_from_existing_secrets_named_by_token_env(render: Render) -> None:
    """Each platform's token is a secretKeyRef whose variable is the config's token_env."""
    docs = render("-f", KEDA_VALUES)
    env = {e["name"]: e for e in container(docs)["env"]}
    platforms = relay_config(docs)["platforms"]
    meta_var = platforms["meta"]["credentials"]["token_env"]
    assert meta_var == "CAPI_META_TOKEN"
    assert env[meta_var]["valueFrom"]["secretKeyRef"] == {"name": "capi-relay-meta", "key": "access-token"}
    google = platforms["google"]["credentials"]
    assert env[google["token_env"]]["valueFrom"]["secretKeyRef"]["name"] == "capi-relay-google"
    dev_var = google["extra_env"]["developer-token"]
    assert dev_var == "CAPI_GOOGLE_DEVELOPER_TOKEN"
    assert env[dev_var]["valueFrom"]["secretKeyRef"] == {
        "name": "capi-relay-google",
        "key": "developer-token",
    }
    for entry in container(docs)["env"]:
        assert "value" not in entry or not re.search(r"token|secret|password", entry["name"], re.I)
    assert platforms["google"]["settings"]["customer_id"] == "1234567890"  # user config kept


def test_keda_scaled_object(render: Render) -> None:
    """KEDA scales on the group's lag, within the partition count; the Deployment has no replicas."""
    docs = render("-f", KEDA_VALUES)
    scaled = one(docs, "ScaledObject")
    assert scaled["apiVersion"] == "keda.sh/v1alpha1"
    spec = scaled["spec"]
    assert spec["scaleTargetRef"]["name"] == one(docs, "Deployment")["metadata"]["name"]
    assert (spec["minReplicaCount"], spec["maxReplicaCount"]) == (2, 12)
    (trigger,) = spec["triggers"]
    assert trigger["type"] == "kafka"
    meta = trigger["metadata"]
    assert meta["consumerGroup"] == "capi-relay-prod"
    assert meta["bootstrapServers"] == "kafka-0.kafka:9092,kafka-1.kafka:9092"
    assert meta["lagThreshold"] == "500"
    assert meta["excludePersistentLag"] == "true"
    assert meta["allowIdleConsumers"] == "false"
    assert all(isinstance(v, str) for v in meta.values()), "KEDA metadata values must be strings"
    assert trigger["authenticationRef"] == {"name": "capi-relay-kafka"}
    assert "replicas" not in one(docs, "Deployment")["spec"]
    assert not by_kind(docs, "HorizontalPodAutoscaler")


def test_keda_defaults_follow_the_config(render: Render) -> None:
    """Without overrides the trigger uses config.kafka's servers and group."""
    docs = render("--set", "keda.enabled=true")
    meta = one(docs, "ScaledObject")["spec"]["triggers"][0]["metadata"]
    assert (meta["bootstrapServers"], meta["consumerGroup"]) == ("kafka:9092", "capi-relay")
    assert meta["excludePersistentLag"] == "false" and "topic" not in meta


def test_hpa_alternative(render: Render) -> None:
    """The CPU HPA targets the Deployment; a longer drain lengthens the grace period."""
    docs = render("-f", HPA_VALUES)
    hpa = one(docs, "HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": one(docs, "Deployment")["metadata"]["name"],
    }
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 4)
    assert not by_kind(docs, "ScaledObject") and not by_kind(docs, "PodDisruptionBudget")
    assert "replicas" not in one(docs, "Deployment")["spec"]
    assert one(docs, "Deployment")["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] == 65
    assert relay_config(docs)["consumer"]["drain_deadline_s"] == 50


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "keda.enabled=true,hpa.enabled=true"], "mutually exclusive"),
        (
            ["--set", "keda.enabled=true,keda.partitions=4,keda.maxReplicas=5"],
            "must not exceed keda.partitions",
        ),
        (["--set", "terminationGracePeriodSeconds=25"], "greater than drainDeadlineSeconds"),
        (
            ["--set", "config.platforms.meta.credentials.token=EAAB"],
            "/config/platforms/meta/credentials': additional properties 'token' not allowed",
        ),
        # the config block is validated against the relay's own settings schema
        (
            ["--set", "config.kafka.bootstrap_server=kafka:9092"],
            "/config/kafka': additional properties 'bootstrap_server' not allowed",
        ),
        (["--set", "config.platforms.meta.settings.pixle_id=1"], "'pixle_id' not allowed"),
        (["--set", "config.routing.purchase[0]=metta"], "/config/routing/purchase/0"),
        (["--set", "keda.lagThreshold=lots"], "lagThreshold"),
    ],
)
def test_guards_refuse_broken_values(helm_bin: str, args: list[str], message: str) -> None:
    """Broken combinations fail at render time with a message naming the problem."""
    done = run_helm(helm_bin, *args)
    assert done.returncode != 0
    assert message in done.stderr


def exported_series() -> set[str]:
    """Every series name the relay exports, as prometheus_client writes them."""
    names: set[str] = set()
    for obj in vars(metrics).values():
        kind = getattr(obj, "_type", None)
        name = getattr(obj, "_name", None)
        if not isinstance(name, str) or kind is None:
            continue
        if kind == "counter":
            names |= {f"{name}_total", f"{name}_created"}
        elif kind == "histogram":
            names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count", f"{name}_created"}
        else:
            names.add(name)
    return names


METRIC_RE = re.compile(r"\bcapi_[a-z_]+")


def dashboard() -> dict[str, Any]:
    """The shipped Grafana dashboard."""
    loaded: dict[str, Any] = json.loads((CHART / "dashboards" / "capi-relay.json").read_text())
    return loaded


def test_alerts_and_dashboard_use_only_exported_metrics(render: Render) -> None:
    """A renamed metric would make an alert silently never fire: names must all exist."""
    exported = exported_series()
    assert "capi_deliveries_total" in exported and "capi_delivery_latency_seconds_bucket" in exported
    rule = one(render("-f", KEDA_VALUES), "PrometheusRule")
    exprs = [r["expr"] for g in rule["spec"]["groups"] for r in g["rules"]]
    panel_exprs = [t["expr"] for p in dashboard()["panels"] for t in p["targets"]]
    panel_exprs.append(dashboard()["templating"]["list"][1]["definition"])
    used = {name for expr in exprs + panel_exprs for name in METRIC_RE.findall(expr)}
    assert used, "no metric names found"
    assert sorted(used - exported) == []


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def test_alerts_have_runbooks_in_operations_doc(render: Render) -> None:
    """Every alert has a description and a runbook_url that points at an existing section."""
    rule = one(render("--set", "prometheusRule.enabled=true"), "PrometheusRule")
    doc = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    anchors = {github_anchor(m) for m in re.findall(r"^##+ (.+)$", doc, flags=re.M)}
    alerts = {r["alert"]: r for g in rule["spec"]["groups"] for r in g["rules"]}
    assert set(alerts) >= {
        "CapiRelayDeadLetterRateHigh",
        "CapiRelayCircuitOpen",
        "CapiRelayAuthFailures",
        "CapiRelayConsumerLagGrowing",
        "CapiRelayMatchKeyCoverageLow",
        "CapiRelayEventsOutsideWindow",
        "CapiRelayAbsent",
        "CapiRelayNotConsuming",
    }
    for name, alert in alerts.items():
        ann = alert["annotations"]
        assert ann["description"] and ann["summary"], name
        anchor = ann["runbook_url"].split("#", 1)[1]
        assert anchor in anchors, f"{name}: no section #{anchor} in docs/operations.md"
        assert alert["labels"]["severity"] in {"critical", "warning", "info"}
        assert re.fullmatch(r"\d+[smh]", alert["for"]), name
    assert "health-and-metrics" in anchors


def test_service_monitor_and_dashboard_configmap(render: Render) -> None:
    """The ServiceMonitor scrapes the metrics port of the Service; the dashboard ships labelled."""
    docs = render("-f", KEDA_VALUES)
    monitor = one(docs, "ServiceMonitor")
    service = one(docs, "Service")
    selector = monitor["spec"]["selector"]["matchLabels"]
    assert selector.items() <= service["metadata"]["labels"].items()
    assert monitor["spec"]["endpoints"][0]["port"] == service["spec"]["ports"][0]["name"] == "metrics"
    assert monitor["spec"]["endpoints"][0]["path"] == "/metrics"
    assert monitor["metadata"]["labels"]["release"] == "prometheus"
    cm = next(d for d in by_kind(docs, "ConfigMap") if d["metadata"]["name"].endswith("-dashboard"))
    assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(cm["data"]["capi-relay.json"]) == dashboard()


def test_dashboard_has_the_operator_panels() -> None:
    """Throughput, outcomes, latency, lag, DLQ, circuit, in-flight are all on the board."""
    titles = " | ".join(p["title"].lower() for p in dashboard()["panels"])
    for word in ("throughput", "outcomes", "latency", "lag", "dead-letter", "circuit", "in flight"):
        assert word in titles
    exprs = " ".join(t["expr"] for p in dashboard()["panels"] for t in p["targets"])
    assert "histogram_quantile(0.5," in exprs and "histogram_quantile(0.99," in exprs


def test_values_file_holds_no_secret_values() -> None:
    """values.yaml names Secrets and keys, never token values."""
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    for slug, ref in values["platformSecrets"].items():
        assert set(ref) <= {"secretName", "tokenKey", "extraKeys"}, slug
    text = (CHART / "values.yaml").read_text()
    assert not re.search(r"^\s*(token|access_token|password)\s*:", text, flags=re.M)


def test_offline_validation_script(helm_bin: str) -> None:
    """scripts/helm_validate.sh lints, renders and schema-validates every scenario."""
    pytest.importorskip("kubernetes_validate", reason="kubernetes-validate is in the test extra")
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "helm_validate.sh")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "HELM": helm_bin},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "helm chart OK" in done.stdout


def test_chart_files_exist() -> None:
    """The chart ships its schema, notes and dashboard."""
    for rel in ("Chart.yaml", "values.schema.json", "templates/NOTES.txt", "templates/_helpers.tpl"):
        assert (CHART / rel).is_file(), rel
    assert Path(CHART / "dashboards" / "capi-relay.json").is_file()


@pytest.mark.parametrize("values", [[], ["-f", KEDA_VALUES], ["-f", HPA_VALUES]])
def test_rendered_config_is_accepted_by_the_relay(render: Render, values: list[str], tmp_path: Path) -> None:
    """The ConfigMap's config.yaml passes the relay's own validation, connectors included."""
    from consumer.app import build_connectors
    from consumer.config import load_settings

    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(relay_config(render(*values))))
    settings = load_settings(path)
    assert settings.observability.http_port == 9400
    assert set(build_connectors(settings)) == set(settings.routed_platforms())
