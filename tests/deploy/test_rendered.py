"""The rendered Kubernetes objects as an operator of NATS, Strimzi or the RabbitMQ operator
would read them on the first day: one test per point of the operations review (issue 18).

``.ci/validate-deployments`` renders every kustomization and runs this module on the
result; the schemas themselves are checked there (kubernetes-validate, the CRD schemas).
Settings are read with the server's own loader, and the /metrics rule is checked against a
real ``pubsubgo-server`` run with the production overlay's settings.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from pubsubgo.config import Settings, load_settings
from pubsubgo.containers import api_routes
from pubsubgo.services.subscriber import MAX_PULL_WAIT_SECONDS
from tests.broker_process import free_port, wait_for
from tests.deploy.rendered import (
    REPO,
    Object,
    Rendered,
    containers,
    env_values,
    load,
    pod_templates,
    render_all,
)

ALL = ("development", "production", "production-istio", "observability", "istio")
WORKLOADS = ("development", "production", "production-istio", "observability")
RULES = REPO / "deployments" / "prometheus" / "rules" / "pubsubgo.yml"
RUNBOOKS = REPO / "docs" / "runbooks.md"
#: Third-party images: registry host, repository, and an exact version or a digest.
PINNED_IMAGE = re.compile(
    r"^[a-z0-9.-]+\.[a-z]+/[\w./-]+(:v?\d+\.\d+\.\d+[\w.-]*)?(@sha256:[0-9a-f]{64})?$"
)
ADMIN_TOKEN = "a-long-enough-operations-token"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = os.environ.get("PUBSUBGO_RENDERED")
    return Path(given) if given else render_all(tmp_path_factory.mktemp("rendered"))


@pytest.fixture(scope="module")
def production(rendered: Path) -> Rendered:
    return load(rendered, "production")


@pytest.fixture(scope="module")
def mesh(rendered: Path) -> Rendered:
    return load(rendered, "production-istio")


@pytest.fixture(scope="module")
def components(rendered: Path) -> Rendered:
    return load(rendered, "production-components")


def _seconds(duration: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    found = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m|h)", duration)
    assert found, duration
    return float(found[1]) * units[found[2]]


def _bytes(quantity: str) -> float:
    """A Kubernetes quantity (1Gi, 512Mi) or a Redis size (2800mb, 3gb) in bytes."""
    units = {"ki": 2**10, "mi": 2**20, "gi": 2**30, "kb": 1e3, "mb": 1e6, "gb": 1e9, "": 1}
    found = re.fullmatch(r"(\d+(?:\.\d+)?)([kmg][ib]?|)", quantity.lower())
    assert found, quantity
    return float(found[1]) * units[found[2] if len(found[2]) != 1 else found[2] + "i"]


def settings_of(rendered: Rendered, monkeypatch: pytest.MonkeyPatch, tmp: Path) -> Settings:
    """The settings the broker of ``rendered`` runs with: its ConfigMap under its env."""
    configmap = next(c for c in rendered.all("ConfigMap") if "config.yaml" in c.get("data", {}))
    config = tmp / "config.yaml"
    config.write_text(configmap["data"]["config.yaml"])
    for name in [name for name in os.environ if name.startswith("PUBSUB_")]:
        monkeypatch.delenv(name)
    for name, value in env_values(containers(broker(rendered))["pubsubgo"]).items():
        if name.startswith("PUBSUB_") and name != "PUBSUB_CONFIG":
            monkeypatch.setenv(name, value)
    if "PUBSUB_AUTH_TOKENS_FILE" in os.environ:
        # The Secret the overlay mounts, stood in for by a real tokens file
        tokens = tmp / "tokens.yaml"
        tokens.write_text(
            f"- name: ops\n  token: {ADMIN_TOKEN}\n"
            "  permissions: [{action: admin, pattern: '*'}]\n"
        )
        monkeypatch.setenv("PUBSUB_AUTH_TOKENS_FILE", str(tokens))
    return load_settings(config)


def broker(rendered: Rendered) -> Object:
    return rendered.one("Deployment", "pubsubgo")


def _drain_seconds(rendered: Rendered, settings: Settings) -> float:
    """preStop sleep + server.shutdown_timeout_seconds: how long a stopping broker serves."""
    pre_stop = containers(broker(rendered))["pubsubgo"]["lifecycle"]["preStop"]["exec"]
    return float(pre_stop["command"][-1]) + settings.server.shutdown_timeout_seconds


# -- 1. the mesh's connection pool --------------------------------------------------------


def test_1_the_mesh_pool_admits_every_websocket_the_fleet_admits(
    mesh: Rendered, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Given the most brokers the HPA runs and the sockets each admits
    settings = settings_of(mesh, monkeypatch, tmp_path)
    fleet = mesh.one("HorizontalPodAutoscaler", "pubsubgo")["spec"]["maxReplicas"]
    sockets = fleet * settings.limits.max_websockets
    # Then one client proxy (the ingress gateway carries every external socket) may open
    # that many connections and requests to the Service: the brokers refuse first, with a
    # code a client can read, not Envoy's overflow
    pool = mesh.one("DestinationRule", "pubsubgo")["spec"]["trafficPolicy"]["connectionPool"]
    assert pool["tcp"]["maxConnections"] >= sockets
    assert pool["http"]["http2MaxRequests"] >= sockets


# -- 2. the sidecar's drain ---------------------------------------------------------------


def test_2_the_sidecar_outlives_the_brokers_drain(
    mesh: Rendered, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings = settings_of(mesh, monkeypatch, tmp_path)
    template = broker(mesh)["spec"]["template"]
    proxy = yaml.safe_load(template["metadata"]["annotations"]["proxy.istio.io/config"])
    drain = _seconds(proxy["terminationDrainDuration"])
    # Then the sidecar serves through preStop and the whole drain, and leaves before the kill
    assert drain >= _drain_seconds(mesh, settings)
    assert drain < template["spec"]["terminationGracePeriodSeconds"]
    assert proxy["proxyMetadata"]["EXIT_ON_ZERO_ACTIVE_CONNECTIONS"] == "true"


# -- 3. route timeouts --------------------------------------------------------------------


def test_3_a_long_poll_is_never_cut_by_the_mesh_and_a_retry_can_finish(
    mesh: Rendered, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings = settings_of(mesh, monkeypatch, tmp_path)
    # The broker's slowest answer: a long poll waits its wait_seconds on top of the timeout
    slowest = settings.server.request_timeout_seconds + MAX_PULL_WAIT_SECONDS
    routes = {r["name"]: r for r in mesh.one("VirtualService", "pubsubgo")["spec"]["http"]}
    api = routes["api"]
    per_try = _seconds(api["retries"]["perTryTimeout"])
    pool = mesh.one("DestinationRule", "pubsubgo")["spec"]["trafficPolicy"]["connectionPool"]
    connect = _seconds(pool["tcp"]["connectTimeout"])
    # Then one try outlasts the slowest answer, with headroom
    assert per_try >= slowest + 5
    # And the route holds every failed connect that is retried plus one whole try
    assert _seconds(api["timeout"]) >= api["retries"]["attempts"] * connect + per_try
    assert set(api["retries"]["retryOn"].split(",")) <= {"connect-failure", "refused-stream"}
    assert "timeout" not in routes["websocket"]


# -- 4. Redis -----------------------------------------------------------------------------


def _redis(rendered: Rendered) -> tuple[Object, Object]:
    statefulset = rendered.one("StatefulSet", "redis")
    return statefulset, containers(statefulset)["redis"]


def _expanded(container: Object, args: list[str]) -> list[str]:
    """The args with $(VAR) replaced by the container's plain env values."""
    values = env_values(container)
    return [re.sub(r"\$\((\w+)\)", lambda m: values.get(m[1], m[0]), arg) for arg in args]


@pytest.mark.parametrize("overlay", ["production", "production-istio"])
def test_4_redis_never_evicts_a_message_and_stays_under_its_memory_limit(
    rendered: Path, overlay: str
) -> None:
    _, redis = _redis(load(rendered, overlay))
    args = _expanded(redis, redis["args"])
    options = dict(zip(args[::2], args[1::2], strict=True))
    assert options["--maxmemory-policy"] == "noeviction"
    assert options["--appendonly"] == "yes"
    # maxmemory leaves room for the copy-on-write of an AOF rewrite under the limit
    limit = _bytes(redis["resources"]["limits"]["memory"])
    assert _bytes(options["--maxmemory"]) <= 0.75 * limit


def test_4_redis_is_ready_only_when_it_answers_pong_and_alive_while_loading(
    production: Rendered,
) -> None:
    _, redis = _redis(production)
    readiness = " ".join(redis["readinessProbe"]["exec"]["command"])
    liveness = " ".join(redis["livenessProbe"]["exec"]["command"])
    # redis-cli exits 0 on an error reply such as LOADING: the probes read what it printed
    assert '"$(redis-cli ping)" = PONG' in readiness
    assert "LOADING" not in readiness
    assert "PONG|LOADING*" in liveness
    # And the password reaches redis-cli without appearing on its command line
    assert "REDISCLI_AUTH" in {e["name"] for e in redis["env"]}


def test_4_redis_and_its_clients_share_a_password_from_a_secret(production: Rendered) -> None:
    statefulset, redis = _redis(production)
    secrets = {
        (container["name"], item["name"]): item["valueFrom"]["secretKeyRef"]["name"]
        for workload in (statefulset, broker(production))
        for container in containers(workload).values()
        for item in container.get("env", [])
        if "valueFrom" in item
    }
    assert set(secrets.values()) == {"pubsubgo-redis"}
    assert ("redis", "REDIS_PASSWORD") in secrets
    assert ("redis-exporter", "REDIS_PASSWORD") in secrets
    assert redis["args"][redis["args"].index("--requirepass") + 1] == "$(REDIS_PASSWORD)"
    # And the broker's URL carries it, defined before the URL that expands it
    names = [e["name"] for e in containers(broker(production))["pubsubgo"]["env"]]
    url = env_values(containers(broker(production))["pubsubgo"])["PUBSUB_REDIS_URL"]
    assert url.startswith("redis://:$(REDIS_PASSWORD)@redis:")
    assert names.index("REDIS_PASSWORD") < names.index("PUBSUB_REDIS_URL")


def test_4_a_node_drain_cannot_take_redis_away_unannounced(production: Rendered) -> None:
    budget = production.one("PodDisruptionBudget", "redis")["spec"]
    statefulset, _ = _redis(production)
    assert budget["selector"]["matchLabels"] == statefulset["spec"]["selector"]["matchLabels"]
    assert budget.get("maxUnavailable") == 0 or budget.get("minAvailable") == 1


def test_4_redis_is_measured_scraped_and_alerted_on(production: Rendered) -> None:
    statefulset, _ = _redis(production)
    exporter = containers(statefulset)["redis-exporter"]
    port = {p["name"]: p["containerPort"] for p in exporter["ports"]}["metrics"]
    # Prometheus keeps the exporter's port by name, and the Service names it for operators
    prometheus = yaml.safe_load((REPO / "deployments/prometheus/prometheus.yml").read_text())
    job = next(j for j in prometheus["scrape_configs"] if j["job_name"] == "redis-kubernetes")
    kept = {
        tuple(r["source_labels"]): r["regex"]
        for r in job["relabel_configs"]
        if r.get("action") == "keep"
    }
    assert kept[("__meta_kubernetes_pod_container_port_name",)] == "metrics"
    assert kept[("__meta_kubernetes_pod_label_app_kubernetes_io_name",)] == "redis"
    service = production.one("Service", "redis")
    assert "metrics" in {p["targetPort"] for p in service["spec"]["ports"]}
    assert _admitted_from_monitoring_only(production, "redis", "metrics")
    # And its memory, its reachability and its AOF are alerted on
    alerts = {rule["alert"]: rule["expr"] for rule in _alerts()}
    assert "redis_memory_max_bytes" in alerts["RedisMemoryHigh"]
    assert "redis_up" in alerts["RedisDown"]
    assert "redis_aof_last_write_status" in alerts["RedisAofWriteFailing"]
    assert port == 9121


# -- 5. Prometheus under Istio ------------------------------------------------------------


def _admitted_from_monitoring_only(rendered: Rendered, policy: str, port: str) -> bool:
    rules = rendered.one("NetworkPolicy", policy)["spec"]["ingress"]
    admitting = [r for r in rules if port in {p["port"] for p in r["ports"]}]
    sources = [source for rule in admitting for source in rule.get("from", [None])]
    monitoring = {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}
    }
    return bool(admitting) and sources == [monitoring] * len(sources)


@pytest.mark.parametrize(("workload", "kind", "container"), [
    ("pubsubgo", "Deployment", "pubsubgo"), ("redis", "StatefulSet", "redis-exporter"),
])  # fmt: skip
def test_5_prometheus_scrapes_the_metrics_ports_in_plain_http_under_strict_mtls(
    mesh: Rendered, workload: str, kind: str, container: str
) -> None:
    pods = mesh.one(kind, workload)["spec"]["template"]
    port = {p["name"]: p["containerPort"] for p in containers({"spec": {"template": pods}})[
        container]["ports"]}["metrics"]  # fmt: skip
    labels = pods["metadata"]["labels"]
    # Given STRICT mTLS for the namespace
    modes = {p["metadata"]["name"]: p["spec"] for p in mesh.all("PeerAuthentication")}
    assert modes["default"]["mtls"]["mode"] == "STRICT"
    # Then a PeerAuthentication of these pods leaves the metrics port out of it
    selecting = [
        spec for spec in modes.values()
        if spec.get("selector", {}).get("matchLabels", {}).items() <= labels.items()
        and spec.get("selector")
    ]  # fmt: skip
    assert [s["portLevelMtls"][str(port)]["mode"] for s in selecting] == ["PERMISSIVE"]
    # And the annotations keep pointing at that port (no merging into the sidecar's)
    annotations = pods["metadata"]["annotations"]
    assert annotations["prometheus.istio.io/merge-metrics"] == "false"
    assert annotations["prometheus.io/port"] == str(port)
    # And the AuthorizationPolicy admits it without a peer identity (plain HTTP has none)
    policy = mesh.one("AuthorizationPolicy", workload)["spec"]["rules"]
    assert any(
        "from" not in rule and str(port) in rule["to"][0]["operation"]["ports"] for rule in policy
    )
    # While the NetworkPolicy admits the port from the monitoring namespace only
    assert _admitted_from_monitoring_only(mesh, workload, "metrics")


# -- 6. one apply for production on Istio -------------------------------------------------


def test_6_production_on_istio_is_one_apply_with_a_gateway_and_injection(mesh: Rendered) -> None:
    assert not mesh.all("Ingress"), "an NGINX Ingress cannot reach pods under STRICT mTLS"
    namespace = mesh.one("Namespace", "pubsubgo")
    assert namespace["metadata"]["labels"]["istio-injection"] == "enabled"
    gateway = mesh.one("Gateway", "pubsubgo")
    routes = mesh.one("VirtualService", "pubsubgo")["spec"]
    assert gateway["metadata"]["name"] in routes["gateways"]
    for obj in mesh.objects:
        if obj["kind"] != "Namespace":
            assert obj["metadata"]["namespace"] == "pubsubgo", obj["metadata"]["name"]


# -- 7. tokens in the mesh's access log ---------------------------------------------------


def test_7_the_mesh_access_log_leaves_out_every_route_that_takes_a_query_token(
    rendered: Path,
) -> None:
    telemetry = load(rendered, "istio").one("Telemetry", "pubsubgo")["spec"]
    query_token_routes = {
        op.path for op in (op for table in api_routes() for op in table) if op.access.query_token
    }
    assert query_token_routes == {"/v1/ws", "/v1/subscriptions/{sub}/events"}
    for logging in telemetry["accessLogging"]:
        expression = logging["filter"]["expression"]
        for path in query_token_routes:
            # A path with a name in it is left out by its fixed end.
            if "}" in path:
                assert f'!request.url_path.endsWith("{path.rsplit("}", 1)[1]}")' in expression
            else:
                assert f'request.url_path != "{path}"' in expression
            assert expression.startswith("response.code >= 400 && ")


# -- 8. the collector tracing sends to ----------------------------------------------------


def test_8_production_traces_go_to_a_collector_the_observability_part_deploys(
    rendered: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    production, observability = load(rendered, "production"), load(rendered, "observability")
    settings = settings_of(production, monkeypatch, tmp_path)
    assert settings.tracing.enabled
    host, port = settings.tracing.otlp_endpoint.split("//")[1].split("/")[0].split(":")
    service_name, namespace = host.split(".")[:2]
    service = observability.one("Service", service_name)
    assert service["metadata"]["namespace"] == namespace
    target = next(p["targetPort"] for p in service["spec"]["ports"] if p["port"] == int(port))
    collector = observability.one("Deployment", service_name)
    assert target in {p["name"] for p in containers(collector)["otel-collector"]["ports"]}
    # And the collector's configuration has a pipeline for traces and none for metrics
    configmap = next(c for c in observability.all("ConfigMap") if "otel-collector.yml" in c["data"])
    pipelines = yaml.safe_load(configmap["data"]["otel-collector.yml"])["service"]["pipelines"]
    assert set(pipelines) == {"traces"}
    assert "TRACES_BACKEND" in env_values(containers(collector)["otel-collector"])


# -- 9. /metrics and the token ------------------------------------------------------------


def _get(url: str, token: str | None = None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5) as r:
            return int(r.status)
    except urllib.error.HTTPError as error:
        error.close()
        return error.code
    except urllib.error.URLError:
        return 0


@pytest.fixture
def production_server(
    production: Rendered, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[tuple[str, str]]:
    """A real pubsubgo-server with the production overlay's settings (memory storage, since
    no Redis runs here, and free ports): (API url, metrics url)."""
    settings = settings_of(production, monkeypatch, tmp_path)  # the overlay's PUBSUB_* are set
    assert settings.auth.enabled
    api, metrics = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k != "PUBSUB_REDIS_URL"} | {
        "PUBSUB_CONFIG": str(tmp_path / "config.yaml"),
        "PUBSUB_STORAGE_BACKEND": "memory", "PUBSUB_TRACING_ENABLED": "false",
        "PUBSUB_METRICS_PORT": str(metrics), "PUBSUB_SERVER_SHUTDOWN_TIMEOUT_SECONDS": "2",
        "PUBSUB_GRPC_PORT": "0",
    }  # fmt: skip
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "pubsubgo", "--host", "127.0.0.1", "--port", str(api)],
        env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_for(lambda: True if _get(f"http://127.0.0.1:{api}/healthz") == 200 else None,
                 "the server answering")  # fmt: skip
        yield f"http://127.0.0.1:{api}", f"http://127.0.0.1:{metrics}"
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()


def test_9_with_auth_on_metrics_need_a_token_on_the_api_port_and_the_metrics_port_is_fenced(
    production: Rendered, production_server: tuple[str, str]
) -> None:
    api, metrics = production_server
    # The production overlay turns auth on: the API port's /metrics names every topic
    assert _get(f"{api}/metrics") == 401
    assert _get(f"{api}/metrics", ADMIN_TOKEN) == 200
    # The metrics port answers Prometheus without a token, behind the NetworkPolicy
    assert _get(f"{metrics}/metrics") == 200
    assert _admitted_from_monitoring_only(production, "pubsubgo", "metrics")


# -- 10. replicas, images, labels ---------------------------------------------------------


@pytest.mark.parametrize("name", ["development", "production", "production-istio"])
def test_10_the_hpa_alone_owns_the_replica_count(rendered: Path, name: str) -> None:
    overlay = load(rendered, name)
    scaled = {h["spec"]["scaleTargetRef"]["name"] for h in overlay.all("HorizontalPodAutoscaler")}
    for deployment in overlay.all("Deployment"):
        owned = deployment["metadata"]["name"] in scaled
        assert ("replicas" in deployment["spec"]) is not owned, deployment["metadata"]["name"]


def test_10_the_keda_component_leaves_the_count_to_its_scaled_object(components: Rendered) -> None:
    assert not components.all("HorizontalPodAutoscaler")
    assert "replicas" not in broker(components)["spec"]


@pytest.mark.parametrize("name", WORKLOADS)
def test_10_third_party_images_name_a_registry_and_an_exact_version(
    rendered: Path, name: str
) -> None:
    for workload, template in pod_templates(load(rendered, name)):
        for container in template["spec"]["containers"]:
            image = container["image"]
            if image.split(":")[0] == "pubsubgo":
                continue  # the broker's own: `kustomize edit set image` (docs/deploy.md)
            assert PINNED_IMAGE.match(image), f"{workload['metadata']['name']}: {image}"


def test_10_the_brokers_image_step_is_documented_where_it_is_needed() -> None:
    for place in (
        REPO / "docs" / "deploy.md",
        REPO / "deployments/kubernetes/overlays/production/kustomization.yaml",
    ):
        assert "kustomize edit set image pubsubgo=" in place.read_text(), place
    dockerfile = (REPO / "Dockerfile").read_text()
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", dockerfile, re.M)
    assert base is not None
    assert PINNED_IMAGE.match(base[1]), base[1]


@pytest.mark.parametrize("name", WORKLOADS)
def test_10_pods_carry_the_part_of_and_instance_labels_of_their_workload(
    rendered: Path, name: str
) -> None:
    for workload, template in pod_templates(load(rendered, name)):
        labels = workload["metadata"]["labels"]
        assert "app.kubernetes.io/part-of" in labels
        for key in ("app.kubernetes.io/part-of", "app.kubernetes.io/instance"):
            if key in labels:
                assert template["metadata"]["labels"].get(key) == labels[key], key


# -- 11. what operators expect ------------------------------------------------------------


def _alerts() -> list[dict[str, Any]]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def test_11_service_monitors_select_the_metrics_ports_of_real_services(
    components: Rendered,
) -> None:
    for monitor in components.all("ServiceMonitor"):
        spec = monitor["spec"]
        services = [
            s for s in components.all("Service")
            if spec["selector"]["matchLabels"].items() <= s["metadata"]["labels"].items()
        ]  # fmt: skip
        assert len(services) == 1, monitor["metadata"]["name"]
        ports = {p["name"] for p in services[0]["spec"]["ports"]}
        for endpoint in spec["endpoints"]:
            assert endpoint["port"] in ports
            assert endpoint["path"] == "/metrics"


def test_11_the_prometheus_rule_is_the_rule_file(components: Rendered) -> None:
    rule = components.one("PrometheusRule", "pubsubgo")
    assert rule["spec"]["groups"] == yaml.safe_load(RULES.read_text())["groups"]


def test_11_keda_scales_the_broker_on_backlog_within_the_hpas_bounds(
    production: Rendered, components: Rendered
) -> None:
    hpa = production.one("HorizontalPodAutoscaler", "pubsubgo")["spec"]
    scaled = components.one("ScaledObject", "pubsubgo")["spec"]
    assert scaled["scaleTargetRef"]["name"] == broker(components)["metadata"]["name"]
    assert (scaled["minReplicaCount"], scaled["maxReplicaCount"]) == (
        hpa["minReplicas"], hpa["maxReplicas"]
    )  # fmt: skip
    triggers = {t["type"]: t for t in scaled["triggers"]}
    assert "pubsubgo_subscription_backlog" in triggers["prometheus"]["metadata"]["query"]
    assert "cpu" in triggers


def test_11_a_grafana_dashboard_configmap_carries_the_dashboard(rendered: Path) -> None:
    observability = load(rendered, "observability")
    configmap = observability.one("ConfigMap", "pubsubgo-dashboards")
    assert configmap["metadata"]["labels"]["grafana_dashboard"] == "1"
    dashboard = REPO / "deployments/grafana/dashboards/pubsubgo-overview.json"
    assert json.loads(configmap["data"][dashboard.name]) == json.loads(dashboard.read_text())


def test_11_alerts_cover_absence_websocket_saturation_and_memory() -> None:
    expressions = " ".join(rule["expr"] for rule in _alerts())
    assert 'absent(up{job=~"pubsubgo.*"})' in expressions
    assert "pubsubgo_websocket_limit" in expressions
    assert "container_memory_working_set_bytes" in expressions
    assert "redis_memory_used_bytes" in expressions


def test_11_every_alert_links_a_runbook_section_that_exists() -> None:
    anchors = {
        re.sub(r"[^a-z0-9 -]", "", line[3:].strip().lower()).replace(" ", "-")
        for line in RUNBOOKS.read_text().splitlines()
        if line.startswith("## ")
    }
    for rule in _alerts():
        url = rule["annotations"]["runbook_url"]
        page, anchor = url.split("#")
        assert page == "docs/runbooks.md", url
        assert anchor == rule["alert"].lower()
        assert anchor in anchors, f"docs/runbooks.md has no section for {rule['alert']}"
