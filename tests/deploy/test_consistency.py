"""The deployment files against the server as it really is.

PubSubGo's own deployment tree named ports, paths, metrics and variables its server did not
have. These tests start the real ``pubsubgo-server``, drive a little traffic, scrape its
``/metrics``, read the server's settings model and routes, and then check every deployment
file (deployments/, Dockerfile, docker-compose.yml, docs/deploy.md):

* every metric a Grafana query or a Prometheus rule selects is one the server emits, and
  every label a query filters or groups by is one the metric has;
* every ``PUBSUB_*`` name is a setting the server reads, and every value set is one it
  accepts;
* probe paths, ports and routes in the Deployment, Service, Dockerfile, compose file,
  Ingress, Prometheus and Istio resources are the server's.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import promql_parser as promql
import pytest
import typer.main
import yaml
from grpc_health.v1 import health_pb2
from grpc_reflection.v1alpha import reflection_pb2
from prometheus_client.parser import text_string_to_metric_families
from pydantic import BaseModel

from pubsubgo.adapters.grpc.generated import broker_pb2, pubsub_pb2
from pubsubgo.cli import server as server_cli
from pubsubgo.config import Settings, load_settings
from pubsubgo.containers import api_app, build_container
from pubsubgo.services.subscriber import MAX_PULL_WAIT_SECONDS
from tests.broker_process import wait_for
from tests.redis.servers import RedisServer

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deployments"
#: Where the production overlay mounts the auth Secret, and a tokens file to stand in for it.
AUTH_MOUNT = "/etc/pubsubgo/auth/"
SAMPLE_TOKENS = """
- name: ops
  token: a-long-enough-operations-token
  permissions: [{action: admin, pattern: "*"}]
"""
KUBE = DEPLOY / "kubernetes"
OVERLAYS = ("development", "production", "postgres")
#: Every file that may name a PUBSUB_* variable.
DEPLOY_TEXTS = [
    REPO / "Dockerfile",
    REPO / "docker-compose.yml",
    REPO / "docs" / "deploy.md",
    *sorted(path for path in DEPLOY.rglob("*") if path.is_file()),
]
#: How long the server may take to answer /healthz, and to refresh its storage gauges.
START_DEADLINE_SECONDS = 20.0
GAUGE_DEADLINE_SECONDS = 10.0
#: Labels Prometheus adds to every series it scrapes (target labels, prometheus.yml relabelling).
TARGET_LABELS = frozenset({"job", "instance", "namespace", "pod"})
#: Series that Prometheus makes itself, and those of Kubernetes' own exporters that the
#: memory alert reads (cAdvisor in the kubelet, kube-state-metrics), with their labels.
PROMETHEUS_SERIES = {
    "up": TARGET_LABELS,
    "container_memory_working_set_bytes": frozenset({"container", "id", "image", "name"})
    | TARGET_LABELS,
    "kube_pod_container_resource_limits": frozenset(
        {"container", "node", "resource", "unit", "uid"}
    )
    | TARGET_LABELS,
}
#: How long redis_exporter may take to answer its first scrape.
EXPORTER_DEADLINE_SECONDS = 20.0
#: The KEDA trigger's query is PromQL too.
KEDA = KUBE / "components" / "keda" / "scaledobject.yaml"
_ENV_NAME = re.compile(r"\bPUBSUB_[A-Z0-9_]*[A-Z0-9]\b")
_LABEL_VALUES = re.compile(r"^\s*label_values\((?:(?P<expr>.*),\s*)?(?P<label>\w+)\s*\)\s*$")
_GRAFANA_INTERVAL = re.compile(r"\$(?:__\w+|\{__\w+\})")

Labels = frozenset[str] | None  # None: the server declares the series but showed no sample


# -- the server --------------------------------------------------------------------------


@dataclass(frozen=True)
class Scrape:
    """What the running server answered: /metrics on both ports, and its series' labels."""

    api: tuple[int, str]
    metrics: tuple[int, str]
    series: dict[str, Labels]
    probes: dict[str, int]


def _defaults() -> Settings:
    """The settings' defaults, whatever PUBSUB_* variables the test run carries."""
    return Settings.model_construct()


def _groups() -> dict[str, type[BaseModel]]:
    groups: dict[str, type[BaseModel]] = {}
    for group, field in Settings.model_fields.items():
        assert isinstance(field.annotation, type)
        assert issubclass(field.annotation, BaseModel)
        groups[group] = field.annotation
    return groups


def _env(group: str, name: str) -> str:
    """The variable of ``group.name``; fails if the setting does not exist."""
    assert name in _groups()[group].model_fields, f"no setting {group}.{name}"
    return f"PUBSUB_{group}_{name}".upper()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _http(method: str, url: str, body: Any = None) -> tuple[int, str]:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"} if data is not None else {}
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read().decode()


def _call(method: str, url: str, body: Any = None, expect: int = 200) -> Any:
    status, text = _http(method, url, body)
    assert status == expect, f"{method} {url} -> {status}: {text}"
    return json.loads(text) if text else None


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    def healthy() -> bool | None:
        if process.poll() is not None:
            pytest.fail(f"pubsubgo-server exited with {process.returncode}:\n{log.read_text()}")
        try:
            return True if _http("GET", f"{url}/healthz")[0] == 200 else None
        except urllib.error.URLError:
            return None  # not listening yet

    wait_for(healthy, "pubsubgo-server answering /healthz", START_DEADLINE_SECONDS)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A real ``pubsubgo-server`` with metrics on their own port: (api url, metrics url)."""
    executable = shutil.which("pubsubgo-server")
    if executable is None:
        pytest.fail("pubsubgo-server is not on PATH: install the project with pip install -e .")
    api_port, metrics_port = _free_port(), _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUBSUB_")} | {
        _env("metrics", "enabled"): "true",
        _env("metrics", "port"): str(metrics_port),
        _env("storage", "backend"): "memory",
        _env("broker", "duty_interval_seconds"): "0.1",
        _env("metrics", "refresh_seconds"): "0.1",
        _env("server", "shutdown_timeout_seconds"): "2",
        _env("grpc", "port"): "0",  # never the default port another run may hold
    }
    workdir = tmp_path_factory.mktemp("server")
    log = workdir / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [executable, "--host", "127.0.0.1", "--port", str(api_port)],
            cwd=workdir, env=env, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        _wait_healthy(f"http://127.0.0.1:{api_port}", process, log)
        yield f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{metrics_port}"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _traffic(api: str) -> None:
    """Publish, pull, ack, nack into a dead-letter topic, join a group, hit a 404."""
    for topic in ("deploy-orders", "deploy-dead"):
        _call("POST", f"{api}/v1/topics", {"name": topic}, expect=201)
    subscription = {
        "name": "deploy-billing", "topic": "deploy-orders", "start": "earliest",
        "max_delivery_attempts": 2, "dead_letter_topic": "deploy-dead",
        "retry_policy": {"minimum_backoff_seconds": 0, "maximum_backoff_seconds": 0},
    }  # fmt: skip
    _call("POST", f"{api}/v1/subscriptions", subscription, expect=201)
    messages = [{"data": f"m{n}", "key": f"k{n}"} for n in range(3)]
    _call("POST", f"{api}/v1/topics/deploy-orders/messages", {"messages": messages}, expect=201)
    pull = f"{api}/v1/subscriptions/deploy-billing"
    first = _call("POST", f"{pull}/pull", {"max_messages": 10})["messages"]
    _call("POST", f"{pull}/ack", {"ack_ids": [m["ack_id"] for m in first[1:]]})
    # A nack redelivers (attempt 2); the second nack exceeds max_delivery_attempts.
    _call("POST", f"{pull}/nack", {"ack_ids": [first[0]["ack_id"]], "delay_seconds": 0})
    again = _call("POST", f"{pull}/pull", {"max_messages": 10, "wait_seconds": 5})["messages"]
    assert len(again) == 1, f"the nacked message was not redelivered: {again}"
    _call("POST", f"{pull}/nack", {"ack_ids": [again[0]["ack_id"]], "delay_seconds": 0})
    _call("POST", f"{pull}/members", {}, expect=201)
    _call("GET", f"{api}/v1/topics/deploy-missing", expect=404)
    # Ready after 0.2 s, expired after 0.1 s: never delivered, counted as expired by a pull.
    late = {"messages": [{"data": "late", "delay_seconds": 0.2, "ttl_seconds": 0.1}]}
    _call("POST", f"{api}/v1/topics/deploy-orders/messages", late, expect=201)
    assert not _call("POST", f"{pull}/pull", {"max_messages": 10, "wait_seconds": 1})["messages"]


def _series(text: str) -> dict[str, Labels]:
    """Every series name the exposition declares, with the labels its samples carry."""
    suffixes = {
        "counter": ("_total", "_created"),
        "histogram": ("_bucket", "_count", "_sum", "_created"),
        "summary": ("", "_count", "_sum", "_created"),
        "info": ("_info",),
    }
    series: dict[str, Labels] = {}
    for family in text_string_to_metric_families(text):
        for suffix in suffixes.get(family.type, ("",)):
            series.setdefault(family.name + suffix, None)
        for sample in family.samples:
            series[sample.name] = (series[sample.name] or frozenset()) | set(sample.labels)
    return series


def _get(url: str) -> tuple[int, str]:
    """GET ``url``; status 0 with the reason when nothing listens there."""
    try:
        return _http("GET", url)
    except urllib.error.URLError as error:
        return 0, f"nothing answers {url}: {error.reason}"


@pytest.fixture(scope="module")
def scrape(server: tuple[str, str]) -> Scrape:
    api, metrics = server
    _traffic(api)

    # The storage gauges (backlog, members…) are refreshed by a background duty.
    def gauges_refreshed() -> tuple[int, str] | None:
        found = _get(f"{metrics}/metrics")
        ready = found[0] != 200 or "pubsubgo_subscription_backlog{" in found[1]
        return found if ready else None

    try:
        scraped = wait_for(gauges_refreshed, "the storage gauges", GAUGE_DEADLINE_SECONDS)
    except AssertionError:
        scraped = _get(f"{metrics}/metrics")  # the tests then name what is missing
    probes = {path: _get(f"{api}{path}")[0] for path in ("/healthz", "/readyz")}
    series = _series(scraped[1]) if scraped[0] == 200 else {}
    return Scrape(_get(f"{api}/metrics"), scraped, series, probes)


@pytest.fixture(scope="module")
def redis_series(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Labels]]:
    """The series of a real redis_exporter (Debian's prometheus-redis-exporter) in front of
    a private redis-server with the production options (AOF, maxmemory, noeviction)."""
    exporter = shutil.which("prometheus-redis-exporter")
    if exporter is None:
        pytest.fail("prometheus-redis-exporter is not installed: apt-get install"
                    " prometheus-redis-exporter (.ci/run does)")  # fmt: skip
    options = ("--save", "", "--appendonly", "yes", "--maxmemory", "100mb")
    redis = RedisServer(
        tmp_path_factory.mktemp("redis"), (*options, "--maxmemory-policy", "noeviction")
    )
    redis.start()
    port = _free_port()
    process = subprocess.Popen(
        [exporter, "-redis.addr", f"redis://127.0.0.1:{redis.port}",
         "-web.listen-address", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:

        def scraped() -> str | None:
            status, text = _get(f"http://127.0.0.1:{port}/metrics")
            return text if status == 200 and "redis_up 1" in text else None

        yield _series(wait_for(scraped, "redis_exporter answering", EXPORTER_DEADLINE_SECONDS))
    finally:
        process.terminate()
        process.wait(timeout=10)
        redis.stop()


@pytest.fixture(scope="module")
def routes() -> set[tuple[str, str]]:
    """(method, path) of every route of the API, from the app the server builds."""
    app = api_app(build_container(_defaults()))
    return {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.resource is not None and route.method != "HEAD"
    }


# -- the deployment files ----------------------------------------------------------------


def _documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def _resources(directory: Path) -> list[dict[str, Any]]:
    """Every Kubernetes/Istio object of the YAML files under ``directory``."""
    return [
        doc
        for path in sorted(directory.rglob("*.yaml"))
        if path.name != "config.yaml"
        for doc in _documents(path)
        if "kind" in doc and doc["kind"] != "Kustomization"
    ]


def _one(directory: Path, kind: str, name: str) -> dict[str, Any]:
    found = [r for r in _resources(directory) if (r["kind"], r["metadata"]["name"]) == (kind, name)]
    assert len(found) == 1, f"{directory}: expected one {kind}/{name}, found {len(found)}"
    return found[0]


def _container(deployment: dict[str, Any]) -> dict[str, Any]:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    found = [c for c in containers if c["name"] == "pubsubgo"]
    assert len(found) == 1, "the Deployment needs one container named pubsubgo"
    return dict(found[0])


def _overlay_env(overlay: str) -> dict[str, str]:
    """The broker's variables set to values in an overlay (not those from a Secret): the
    base's, then the overlay patch's."""
    env: dict[str, str] = {}
    for directory in (KUBE / "base", KUBE / "overlays" / overlay):
        for item in _container(_one(directory, "Deployment", "pubsubgo")).get("env", []):
            if "value" in item:  # not those from Secrets (the Redis password)
                env[item["name"]] = str(item["value"])
    return env


def _compose() -> dict[str, Any]:
    return _documents(REPO / "docker-compose.yml")[0]


def _settings(monkeypatch: pytest.MonkeyPatch, config_file: Path, env: dict[str, str]) -> Settings:
    """The settings the server would run with: ``config_file`` under ``env``."""
    for name in [name for name in os.environ if name.startswith("PUBSUB_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return load_settings(config_file)


def _server_env_names() -> set[str]:
    """Every variable the server reads: one per setting, plus the CLI's own (PUBSUB_CONFIG)."""
    names = {_env(group, name) for group, model in _groups().items() for name in model.model_fields}
    for param in typer.main.get_command(server_cli.app).params:
        envvars = [param.envvar] if isinstance(param.envvar, str) else param.envvar or []
        names.update(envvars)
    return names


# -- PromQL --------------------------------------------------------------------------------


def _queries() -> list[tuple[str, str, str | None]]:
    """(where, PromQL, label) of every query: dashboards (panels and variables) and rules."""
    queries: list[tuple[str, str, str | None]] = []
    for path in sorted((DEPLOY / "grafana").rglob("*.json")):
        dashboard = json.loads(path.read_text(encoding="utf-8"))
        panels = dashboard.get("panels", [])
        panels += [inner for panel in panels for inner in panel.get("panels", [])]
        for panel in panels:
            for target in panel.get("targets", []):
                expr = _GRAFANA_INTERVAL.sub("5m", target["expr"])
                queries.append((f"{path.name}: {panel['title']}", expr, None))
        for variable in dashboard.get("templating", {}).get("list", []):
            query = variable.get("query")
            text = query.get("query", "") if isinstance(query, dict) else str(query or "")
            if matched := _LABEL_VALUES.match(text):
                where = f"{path.name}: ${variable['name']}"
                queries.append((where, matched["expr"] or "up", matched["label"]))
    for name, rule in _rules().items():
        queries.append((f"rules: {name}", rule["expr"], None))
    for trigger in _documents(KEDA)[0]["spec"]["triggers"]:
        if trigger["type"] == "prometheus":
            queries.append(("keda: scaledobject", trigger["metadata"]["query"], None))
    return queries


def _rules() -> dict[str, dict[str, Any]]:
    rules: dict[str, dict[str, Any]] = {}
    for path in sorted((DEPLOY / "prometheus" / "rules").glob("*.yml")):
        for group in _documents(path)[0]["groups"]:
            for rule in group["rules"]:
                rules[rule.get("record") or rule["alert"]] = rule
    return rules


def _children(expr: Any) -> list[Any]:
    if isinstance(expr, promql.BinaryExpr):
        return [expr.lhs, expr.rhs]
    if isinstance(expr, promql.Call):
        return list(expr.args)
    if isinstance(expr, promql.MatrixSelector):
        return [expr.vector_selector]
    if isinstance(expr, (promql.AggregateExpr, promql.ParenExpr, promql.UnaryExpr)):
        return [expr.expr]
    if isinstance(expr, promql.SubqueryExpr):
        return [expr.expr]
    return []


def _nodes(expr: Any) -> Iterator[Any]:
    yield expr
    for child in _children(expr):
        yield from _nodes(child)


def _labels(expr: Any, known: Callable[[str], Labels]) -> Labels:
    """The labels ``expr``'s result carries, or None where that is unknown."""
    if isinstance(expr, promql.VectorSelector):
        return known(expr.name) if expr.name else None
    if isinstance(expr, promql.AggregateExpr):
        inner = _labels(expr.expr, known)
        if expr.modifier is None:
            return frozenset()
        if expr.modifier.type == promql.AggModifierType.By:
            return frozenset(expr.modifier.labels)
        return None if inner is None else inner - set(expr.modifier.labels)
    if isinstance(expr, promql.Call):
        args = [arg for arg in expr.args if not isinstance(arg, promql.NumberLiteral)]
        if expr.func.name == "histogram_quantile" and args:
            inner = _labels(args[0], known)
            return None if inner is None else inner - {"le"}
        if expr.func.name.startswith("label_") or not args:
            return None
        return _labels(args[0], known)
    if isinstance(expr, promql.BinaryExpr):
        if isinstance(expr.lhs, promql.NumberLiteral):
            return _labels(expr.rhs, known)
        return _labels(expr.lhs, known)
    children = _children(expr)
    return _labels(children[0], known) if children else None


def _known(series: dict[str, Labels]) -> Callable[[str], Labels]:
    """Labels of a series name: the server's, a recording rule's, or Prometheus's own."""
    records = {name: rule for name, rule in _rules().items() if "record" in rule}

    def known(name: str) -> Labels:
        if name in records:
            return _labels(promql.parse(records[name]["expr"]), known)
        if name in PROMETHEUS_SERIES:
            return PROMETHEUS_SERIES[name]
        labels = series.get(name)
        return None if labels is None else labels | TARGET_LABELS

    return known


def _query_problems(series: dict[str, Labels], expr_text: str, label: str | None) -> list[str]:
    known = _known(series)
    records = {name for name, rule in _rules().items() if "record" in rule}
    try:
        expr = promql.parse(expr_text)
    except ValueError as error:
        return [f"does not parse: {error}"]
    problems = []
    for node in _nodes(expr):
        if isinstance(node, promql.VectorSelector) and node.name:
            if node.name not in series and node.name not in records | PROMETHEUS_SERIES.keys():
                problems.append(f"{node.name} is not emitted by the server nor recorded")
                continue
            used = {m.name for m in node.matchers.matchers} - {"__name__"}
            have = known(node.name)
            if have is not None and not used <= have:
                problems.append(f"{node.name} has no label {sorted(used - have)}")
        elif isinstance(node, promql.AggregateExpr) and node.modifier is not None:
            have = _labels(node.expr, known)
            wanted = set(node.modifier.labels)
            if have is not None and not wanted <= have:
                problems.append(f"grouping by {sorted(wanted - have)}, which {node.expr} lacks")
    have = _labels(expr, known)
    if label is not None and have is not None and label not in have:
        problems.append(f"label_values of {label!r}, which {expr_text} lacks")
    return problems


# -- tests ---------------------------------------------------------------------------------


class TestMetrics:
    def test_the_server_serves_metrics_on_the_metrics_port_and_the_api_port(
        self, scrape: Scrape
    ) -> None:
        # Then Prometheus (metrics port) and a mesh scrape (API port) both get the exposition
        assert scrape.metrics[0] == 200, f"GET /metrics on the metrics port -> {scrape.metrics}"
        assert scrape.api[0] == 200, f"GET /metrics on the API port -> {scrape.api[0]}"
        assert "pubsubgo_messages_published_total" in scrape.api[1]

    def test_every_dashboard_and_rule_query_selects_series_and_labels_the_server_emits(
        self, scrape: Scrape, redis_series: dict[str, Labels]
    ) -> None:
        # Given the series a running server declares after some traffic, and those of a
        # running redis_exporter
        assert scrape.series, "the server's metrics port served no exposition to compare with"
        series = scrape.series | redis_series
        # When every query of the dashboards, the rules and the KEDA trigger is parsed
        queries = _queries()
        problems = [
            f"{where}: {problem}\n    {expr}"
            for where, expr, label in queries
            for problem in _query_problems(series, expr, label)
        ]
        # Then each selects only emitted (or recorded) series, by labels they carry
        assert len(queries) > 20, "found too few queries: did the dashboards or rules move?"
        assert not problems, "\n".join(problems)

    def test_every_alert_has_a_promtool_unit_test(self) -> None:
        alerts = {name for name, rule in _rules().items() if "alert" in rule}
        tested = {
            case["alertname"]
            for path in (DEPLOY / "prometheus" / "tests").glob("*.yml")
            for test in _documents(path)[0]["tests"]
            for case in test.get("alert_rule_test", [])
            if case.get("exp_alerts")
        }
        assert alerts <= tested, f"alerts without a firing test: {sorted(alerts - tested)}"


class TestEnvironment:
    def test_every_pubsub_variable_named_in_the_deployment_files_is_one_the_server_reads(
        self,
    ) -> None:
        readable = _server_env_names()
        named = {
            (str(path.relative_to(REPO)), name)
            for path in DEPLOY_TEXTS
            for name in _ENV_NAME.findall(path.read_text(encoding="utf-8", errors="replace"))
        }
        unknown = sorted(f"{path}: {name}" for path, name in named if name not in readable)
        assert named, "no PUBSUB_* variable found in the deployment files"
        assert not unknown, "variables the server does not read:\n" + "\n".join(unknown)

    def test_the_configmap_has_the_keys_of_the_repository_config_and_the_server_accepts_it(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def keys(path: Path) -> set[str]:
            config = _documents(path)[0]
            return {f"{group}.{name}" for group, fields in config.items() for name in fields}

        assert keys(KUBE / "base" / "config.yaml") == keys(REPO / "config.yaml")
        settings = _settings(monkeypatch, KUBE / "base" / "config.yaml", {})
        assert settings.storage.backend == "redis"

    @pytest.mark.parametrize("overlay", OVERLAYS)
    def test_each_overlay_runs_the_server_with_settings_it_accepts(
        self, overlay: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        # Given the base ConfigMap under the overlay's variables, with the tokens file that
        # the Secret mounts in a cluster stood in for by a real one
        env = _overlay_env(overlay)
        if "PUBSUB_AUTH_TOKENS_FILE" in env:
            assert env["PUBSUB_AUTH_TOKENS_FILE"].startswith(AUTH_MOUNT)
            tokens = tmp_path / "tokens.yaml"
            tokens.write_text(SAMPLE_TOKENS)
            env["PUBSUB_AUTH_TOKENS_FILE"] = str(tokens)
        settings = _settings(monkeypatch, KUBE / "base" / "config.yaml", env)
        assert settings.auth.enabled == (overlay == "production")
        deployment = _one(KUBE / "overlays" / overlay, "Deployment", "pubsubgo")
        # Then the storage matches the replica count: memory storage is one process
        if overlay == "development":
            assert settings.storage.backend == "memory"
            assert deployment["spec"]["replicas"] == 1
        elif overlay == "postgres":
            assert settings.storage.backend == "postgres"
            assert settings.postgres.url.split("@")[1].split(":")[0] == "postgres"
            assert deployment["spec"]["replicas"] >= 2
        else:
            assert settings.storage.backend == "redis"
            assert "replicas" not in deployment["spec"]  # the HPA owns the count
            hpa = _one(KUBE / "overlays" / overlay, "HorizontalPodAutoscaler", "pubsubgo")
            assert hpa["spec"]["minReplicas"] >= 3
        # And the pod outlives the drain: preStop sleep + server.shutdown_timeout_seconds
        base = _one(KUBE / "base", "Deployment", "pubsubgo")["spec"]["template"]["spec"]
        pre_stop = _container({"spec": {"template": {"spec": base}}})["lifecycle"]["preStop"]
        sleep = float(pre_stop["exec"]["command"][-1])
        drain = settings.server.shutdown_timeout_seconds
        assert base["terminationGracePeriodSeconds"] > sleep + drain
        assert drain >= MAX_PULL_WAIT_SECONDS or overlay == "development"

    def test_compose_runs_the_broker_on_the_redis_service_with_settings_it_accepts(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        services = _compose()["services"]
        env = {k: str(v) for k, v in services["pubsubgo"]["environment"].items()}
        settings = _settings(monkeypatch, REPO / "config.yaml", env)
        assert settings.storage.backend == "redis"
        assert settings.redis.url.split("//")[1].split(":")[0] in services
        assert settings.tracing.otlp_endpoint.endswith("/v1/traces")
        collector = settings.tracing.otlp_endpoint.split("//")[1].split("/")[0]
        host, port = collector.split(":")
        otel = _documents(DEPLOY / "otel" / "otel-collector.yml")[0]
        assert host in services
        assert otel["receivers"]["otlp"]["protocols"]["http"]["endpoint"].endswith(f":{port}")


class TestPortsAndPaths:
    def test_the_deployment_probes_and_ports_are_the_servers(
        self, scrape: Scrape, routes: set[tuple[str, str]], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        settings = _settings(monkeypatch, KUBE / "base" / "config.yaml", {})
        container = _container(_one(KUBE / "base", "Deployment", "pubsubgo"))
        ports = {port["name"]: port["containerPort"] for port in container["ports"]}
        # Then the container ports are the settings' ports
        assert ports == {
            "api": settings.server.port,
            "metrics": settings.metrics.port,
            "grpc": settings.grpc.port,
        }
        # And the probes are GET routes that answer 200 on the API port
        expected = {"startupProbe": "/healthz", "livenessProbe": "/healthz"}
        for probe, path in (expected | {"readinessProbe": "/readyz"}).items():
            check = container[probe]["httpGet"]
            assert (check["path"], check["port"]) == (path, "api"), probe
            assert ("GET", path) in routes
            assert scrape.probes[path] == 200, f"GET {path} on the server"
        # And PUBSUB_CONFIG names the file the ConfigMap is mounted as
        mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
        env = {item["name"]: item["value"] for item in container["env"] if "value" in item}
        assert env["PUBSUB_CONFIG"] == f"{mounts['config']}/config.yaml"

    def test_the_service_networkpolicy_and_ingress_point_at_real_ports_and_routes(
        self, routes: set[tuple[str, str]], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        settings = _settings(monkeypatch, KUBE / "base" / "config.yaml", {})
        container = _container(_one(KUBE / "base", "Deployment", "pubsubgo"))
        ports = {port["name"]: port["containerPort"] for port in container["ports"]}
        service = _one(KUBE / "base", "Service", "pubsubgo")
        by_target = {p["targetPort"]: p["port"] for p in service["spec"]["ports"]}
        assert by_target == {
            "api": settings.server.port,
            "metrics": settings.metrics.port,
            "grpc": settings.grpc.port,
        }
        # The gRPC port is named so that Istio speaks HTTP/2 (gRPC) to it
        names = {p["targetPort"]: p["name"] for p in service["spec"]["ports"]}
        assert names["grpc"] == "grpc"
        for policy in [_one(KUBE / "base", "NetworkPolicy", "pubsubgo")]:
            for rule in policy["spec"]["ingress"]:
                assert {p["port"] for p in rule["ports"]} <= ports.keys()
        ingress = _one(KUBE / "base", "Ingress", "pubsubgo")
        service_ports = {p["name"] for p in service["spec"]["ports"]}
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                assert path["backend"]["service"]["port"]["name"] in service_ports
                assert any(route.startswith(f"{path['path']}/") for _, route in routes)
        body = ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-body-size"]
        assert int(body.rstrip("m")) * 1024 * 1024 >= settings.limits.max_body_bytes

    def test_the_dockerfile_exposes_the_ports_and_checks_health_on_healthz(
        self, routes: set[tuple[str, str]]
    ) -> None:
        dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")
        defaults = _defaults()
        exposed = re.search(r"^EXPOSE (.+)$", dockerfile, re.M)
        assert exposed is not None
        assert set(exposed[1].split()) == {
            str(defaults.server.port), str(defaults.metrics.port), str(defaults.grpc.port)
        }  # fmt: skip
        healthcheck = re.search(r"^HEALTHCHECK .*?CMD (.+)$", dockerfile, re.M | re.S)
        assert healthcheck is not None
        assert "/healthz" in healthcheck[1]
        assert ("GET", "/healthz") in routes
        assert f"'{_env('server', 'port')}', '{defaults.server.port}'" in healthcheck[1]
        config = re.search(r"PUBSUB_CONFIG=(\S+)", dockerfile)
        assert config is not None
        assert re.search(rf"^COPY config\.yaml {re.escape(config[1])}$", dockerfile, re.M)

    def test_compose_and_prometheus_scrape_the_metrics_port(self) -> None:
        defaults = _defaults()
        services = _compose()["services"]
        env = services["pubsubgo"]["environment"]
        api = int(env.get(_env("server", "port"), defaults.server.port))
        metrics = int(env.get(_env("metrics", "port"), defaults.metrics.port))
        grpc = int(env.get(_env("grpc", "port"), defaults.grpc.port))
        published = {int(mapping.split(":")[-1]) for mapping in services["pubsubgo"]["ports"]}
        assert published == {api, metrics, grpc}
        prometheus = _documents(DEPLOY / "prometheus" / "prometheus.yml")[0]
        jobs = {job["job_name"]: job for job in prometheus["scrape_configs"]}
        static = jobs["pubsubgo"]["static_configs"][0]["targets"]
        assert static == [f"pubsubgo:{metrics}"]
        for job in (jobs["pubsubgo"], jobs["pubsubgo-kubernetes"]):
            assert job.get("metrics_path", "/metrics") == "/metrics"
        # The Kubernetes job keeps the container port named like the Deployment's metrics port
        container = _container(_one(KUBE / "base", "Deployment", "pubsubgo"))
        names = {p["containerPort"]: p["name"] for p in container["ports"]}
        keep = [
            rule["regex"]
            for rule in jobs["pubsubgo-kubernetes"]["relabel_configs"]
            if rule["source_labels"] == ["__meta_kubernetes_pod_container_port_name"]
        ]
        assert defaults.metrics.port in names, f"no container port {defaults.metrics.port}"
        assert keep == [names[defaults.metrics.port]]

    def test_istio_routes_and_authorizes_exactly_the_servers_paths(
        self, scrape: Scrape, routes: set[tuple[str, str]]
    ) -> None:
        service = _one(KUBE / "base", "Service", "pubsubgo")
        port_of = {p["targetPort"]: p["port"] for p in service["spec"]["ports"]}
        paths = {path for _, path in routes}
        if scrape.api[0] == 200:
            paths.add("/metrics")
        virtual_service = _one(DEPLOY / "istio", "VirtualService", "pubsubgo")
        http = {route["name"]: route for route in virtual_service["spec"]["http"]}
        for name, route in http.items():
            # gRPC methods go to the gRPC port, everything else to the API port
            port, served = (
                (port_of["grpc"], GRPC_PATHS) if name == "grpc" else (port_of["api"], paths)
            )
            for destination in route["route"]:
                assert destination["destination"]["port"]["number"] == port
            for match in route["match"]:
                assert any(_uri_matches(match["uri"], path) for path in served), match
        # gRPC: every method of both services is routed, with no timeout to cut streams
        grpc_matches = [match["uri"] for match in http["grpc"]["match"]]
        assert all(any(_uri_matches(m, p) for m in grpc_matches) for p in SERVED_GRPC_PATHS)
        assert "timeout" not in http["grpc"]
        # WebSocket: the real upgrade route, and no timeout that would cut sessions
        assert http["websocket"]["match"] == [{"uri": {"exact": "/v1/ws"}}]
        assert ("GET", "/v1/ws") in routes
        assert "timeout" not in http["websocket"]
        # REST: every /v1 route is routed, for longer than the longest long-poll
        rest = http["api"]["match"][0]["uri"]
        assert all(_uri_matches(rest, path) for path in paths if path.startswith("/v1/"))
        assert _seconds(http["api"]["timeout"]) > MAX_PULL_WAIT_SECONDS
        self._authorization_covers(routes, paths)

    def _authorization_covers(self, routes: set[tuple[str, str]], paths: set[str]) -> None:
        policy = _one(DEPLOY / "istio", "AuthorizationPolicy", "pubsubgo")
        settings = _defaults()
        real_ports = {str(settings.server.port), str(settings.metrics.port)}
        grpc_port = str(settings.grpc.port)
        allowed: list[tuple[str, str]] = []
        for rule in policy["spec"]["rules"]:
            for to in rule["to"]:
                operation = to["operation"]
                grpc = set(operation["ports"]) == {grpc_port}
                assert grpc or set(operation["ports"]) <= real_ports
                patterns = operation["paths"]
                for pattern in patterns:
                    served = GRPC_PATHS if grpc else paths
                    assert any(_path_matches(pattern, path) for path in served), pattern
                allowed += [(m, p) for m in operation["methods"] for p in patterns]
        # Every REST route, and every gRPC method (a POST), is allowed
        for method, path in sorted(routes | {("POST", path) for path in GRPC_PATHS}):
            assert any(m == method and _path_matches(p, path) for m, p in allowed), path


def _grpc_paths(services: list[Any]) -> set[str]:
    """The HTTP/2 path of every method of ``services``: ``/package.Service/Method``."""
    return {f"/{s.full_name}/{m.name}" for s in services for m in s.methods}


#: What the gRPC listener serves: the broker's two services, and health and reflection.
SERVED_GRPC_PATHS = _grpc_paths(
    [
        pubsub_pb2.DESCRIPTOR.services_by_name["PubSub"],
        broker_pb2.DESCRIPTOR.services_by_name["Broker"],
    ]
)
GRPC_PATHS = SERVED_GRPC_PATHS | _grpc_paths(
    [
        health_pb2.DESCRIPTOR.services_by_name["Health"],
        reflection_pb2.DESCRIPTOR.services_by_name["ServerReflection"],
    ]
)


def _uri_matches(uri: dict[str, str], path: str) -> bool:
    if "exact" in uri:
        return path == uri["exact"]
    return path.startswith(uri["prefix"])


def _path_matches(pattern: str, path: str) -> bool:
    """Istio's path match: exact, ``prefix*`` or ``*suffix``."""
    if pattern.endswith("*"):
        return path.startswith(pattern[:-1])
    if pattern.startswith("*"):
        return path.endswith(pattern[1:])
    return path == pattern


def _seconds(duration: str) -> float:
    return float(promql.parse_duration(duration).total_seconds())
