"""Offline schema checks that .ci/validate-deployments needs and no CLI tool provides.

Run with the deployment-tools virtualenv (it has cloudcoil-models-istio, jsonschema, PyYAML):

    deploy_schemas.py crds FILE...             validate the custom resources (Istio,
                                               prometheus-operator, KEDA) of FILEs; unknown
                                               fields refused; other kinds are skipped
    deploy_schemas.py promtool-config SRC DST  write SRC for a promtool without kubernetes SD
    deploy_schemas.py grafana FILE...          dashboards: JSON, unique ids, queries, datasource
    deploy_schemas.py otel FILE                collector: every pipeline component is defined
    deploy_schemas.py prometheusrule RULES DST write RULES (a Prometheus rule file) as the
                                               PrometheusRule DST; with --check, fail if DST
                                               differs instead

``crds``: the JSON schema of each resource comes from the cloudcoil models of Istio,
prometheus-operator and KEDA (generated from their CRDs); every object that lists its
properties is closed with ``additionalProperties: false`` so that a misspelt field fails,
as with ``kubernetes-validate --strict``.

``promtool-config``: Debian's promtool is built without Kubernetes service discovery and
refuses ``kubernetes_sd_configs``. Each such block is checked here against the fields
Prometheus documents for it, then replaced by a static target, so that promtool still checks
everything else of the job (relabelling, paths, rule files).
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import yaml

#: The packages of the custom resources' models (from each project's CRDs).
CRD_PACKAGES = (
    "cloudcoil.models.istio",
    "cloudcoil.models.prometheus_operator",
    "cloudcoil.models.keda",
)
#: The API groups those models cover: an object of another group is Kubernetes' own
#: (kubernetes-validate checks it).
CRD_GROUPS = ("istio.io", "monitoring.coreos.com", "keda.sh")
#: The PrometheusRule that carries deployments/prometheus/rules for prometheus-operator.
PROMETHEUS_RULE_HEADER = """\
# Generated from deployments/prometheus/rules/pubsubgo.yml by
#   .ci/deploy_schemas.py prometheusrule deployments/prometheus/rules/pubsubgo.yml THIS_FILE
# Do not edit: change the rule file and run that (.ci/validate-deployments checks they match).
"""

#: Prometheus's kubernetes_sd_config fields (prometheus.io/docs, configuration).
KUBERNETES_SD_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["role"],
    "additionalProperties": False,
    "properties": {
        "role": {"enum": ["node", "service", "pod", "endpoints", "endpointslice", "ingress"]},
        "api_server": {"type": "string"},
        "kubeconfig_file": {"type": "string"},
        "namespaces": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "own_namespace": {"type": "boolean"},
                "names": {"type": "array", "items": {"type": "string"}},
            },
        },
        "selectors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["role"],
                "additionalProperties": False,
                "properties": {
                    "role": {"type": "string"},
                    "label": {"type": "string"},
                    "field": {"type": "string"},
                },
            },
        },
        "attach_metadata": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"node": {"type": "boolean"}},
        },
    },
}


def _crd_models() -> dict[tuple[str, str], type[Any]]:
    """(apiVersion, kind) -> cloudcoil model, for every model of CRD_PACKAGES."""
    from cloudcoil.resources import Resource

    models: dict[tuple[str, str], type[Any]] = {}
    for name in CRD_PACKAGES:
        package = importlib.import_module(name)
        for module_info in pkgutil.walk_packages(package.__path__, f"{name}."):
            module = importlib.import_module(module_info.name)
            for _, obj in inspect.getmembers(module, inspect.isclass):
                if (
                    issubclass(obj, Resource)
                    and obj is not Resource
                    and obj.__module__ == module.__name__
                ):
                    gvk = obj.gvk()
                    models[(gvk.api_version, gvk.kind)] = obj
    return models


def _closed(schema: Any) -> Any:
    """The schema with ``additionalProperties: false`` on every object listing properties."""
    if isinstance(schema, dict):
        closed = {key: _closed(value) for key, value in schema.items()}
        if "properties" in closed and "additionalProperties" not in closed:
            closed["additionalProperties"] = False
        return closed
    if isinstance(schema, list):
        return [_closed(item) for item in schema]
    return schema


def _deepest(error: jsonschema.ValidationError) -> jsonschema.ValidationError:
    """The most specific cause of an anyOf failure: the models wrap every optional field in
    ``anyOf: [..., {type: null}]``, so skip the null branch and follow the deepest path."""
    while error.context:
        causes = [
            cause
            for cause in error.context
            if not (cause.validator == "type" and cause.validator_value == "null")
        ]
        if not causes:
            break
        error = max(causes, key=lambda cause: len(cause.absolute_path))
    return error


def _documents(paths: list[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path in paths:
        for document in yaml.safe_load_all(Path(path).read_text(encoding="utf-8")):
            if document is not None:
                yield path, document


def check_crds(paths: list[str]) -> int:
    """Validate every custom resource of ``paths``; the number of invalid ones."""
    models = _crd_models()
    failures = checked = 0
    for path, document in _documents(paths):
        key = (str(document.get("apiVersion")), str(document.get("kind")))
        name = document.get("metadata", {}).get("name", "?")
        group = key[0].split("/")[0]
        if not any(group == known or group.endswith(f".{known}") for known in CRD_GROUPS):
            continue
        model = models.get(key)
        if model is None:
            print(f"ERROR {path}: {key[1]}/{name}: no schema for {key[0]} {key[1]}")
            failures += 1
            continue
        schema = _closed(model.model_json_schema(by_alias=True))
        errors = sorted(
            jsonschema.Draft202012Validator(schema).iter_errors(document),
            key=lambda error: list(error.absolute_path),
        )
        for error in map(_deepest, errors):
            where = ".".join(str(part) for part in error.absolute_path) or "(root)"
            print(f"ERROR {path}: {key[1]}/{name}: {where}: {error.message}")
        failures += bool(errors)
        checked += 1
    print(f"custom resources: {checked} checked, {failures} invalid")
    return failures


def promtool_config(source: str, target: str) -> int:
    """Write ``source`` to ``target`` with kubernetes_sd_configs checked and replaced."""
    config = yaml.safe_load(Path(source).read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(KUBERNETES_SD_SCHEMA)
    failures = 0
    for job in config.get("scrape_configs", []):
        blocks = job.pop("kubernetes_sd_configs", None)
        if blocks is None:
            continue
        for block in blocks:
            for error in validator.iter_errors(block):
                print(
                    f"ERROR {source}: job {job.get('job_name')}: kubernetes_sd_configs: "
                    f"{error.message}"
                )
                failures += 1
        job.setdefault("static_configs", []).append({"targets": ["kubernetes-sd.invalid:9092"]})
    Path(target).write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return failures


def check_grafana(paths: list[str]) -> int:
    """Each dashboard parses, has a uid and unique panel ids, and every query has an expr
    on the dashboard's datasource variable (provisioned as uid ``prometheus``)."""
    failures = 0
    for path in paths:
        problems: list[str] = []
        dashboard = json.loads(Path(path).read_text(encoding="utf-8"))
        if not dashboard.get("uid") or not dashboard.get("title"):
            problems.append("a dashboard needs a uid and a title")
        ids = [panel.get("id") for panel in dashboard.get("panels", [])]
        if len(ids) != len(set(ids)):
            problems.append(f"panel ids repeat: {ids}")
        for panel in dashboard.get("panels", []):
            for target in panel.get("targets", []):
                uid = target.get("datasource", {}).get("uid")
                if not target.get("expr") or uid not in ("${datasource}", "prometheus"):
                    problems.append(f"panel {panel.get('title')!r}: target {target}")
        for problem in problems:
            print(f"ERROR {path}: {problem}")
        failures += bool(problems)
    print(f"grafana: {len(paths)} dashboards checked, {failures} invalid")
    return failures


def check_otel(path: str) -> int:
    """Every component a pipeline names is defined, and every defined one is used."""
    config = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    service = config.get("service", {})
    problems: list[str] = []
    used: dict[str, set[str]] = {"receivers": set(), "processors": set(), "exporters": set()}
    for name, pipeline in service.get("pipelines", {}).items():
        for kind, names in used.items():
            names.update(pipeline.get(kind, []))
            if kind != "processors" and not pipeline.get(kind):
                problems.append(f"pipeline {name} has no {kind}")
    used["extensions"] = set(service.get("extensions", []))
    for kind, names in used.items():
        defined = set(config.get(kind) or {})
        for missing in sorted(names - defined):
            problems.append(f"{kind[:-1]} {missing!r} is used but not defined")
        for unused in sorted(defined - names):
            problems.append(f"{kind[:-1]} {unused!r} is defined but never used")
    for problem in problems:
        print(f"ERROR {path}: {problem}")
    print(f"otel: {path}: {len(problems)} problems")
    return len(problems)


class _FoldingDumper(yaml.SafeDumper):
    """Writes long strings (PromQL, descriptions) folded (``>-``), within yamllint's width."""


def _folded(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = ">" if len(value) > 80 and "\n" not in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_FoldingDumper.add_representer(str, _folded)


def prometheus_rule(rules_path: str, target: str, check: bool) -> int:
    """Write the rule file ``rules_path`` as a PrometheusRule at ``target`` (or, with
    ``check``, compare); 1 when ``check`` finds them different."""
    groups = yaml.safe_load(Path(rules_path).read_text(encoding="utf-8"))["groups"]
    resource = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "pubsubgo", "labels": {"app.kubernetes.io/name": "pubsubgo"}},
        "spec": {"groups": groups},
    }
    text = PROMETHEUS_RULE_HEADER + yaml.dump(
        resource, Dumper=_FoldingDumper, sort_keys=False, width=50
    )
    if not check:
        Path(target).write_text(text, encoding="utf-8")
        return 0
    if Path(target).read_text(encoding="utf-8") != text:
        print(f"ERROR {target} is not {rules_path} as a PrometheusRule: regenerate it with")
        print(f"  .ci/deploy_schemas.py prometheusrule {rules_path} {target}")
        return 1
    print(f"prometheusrule: {target} matches {rules_path}")
    return 0


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "crds":
        return 1 if check_crds(argv[1:]) else 0
    if len(argv) in (3, 4) and argv[0] == "prometheusrule":
        return prometheus_rule(argv[1], argv[2], check=argv[3:] == ["--check"])
    if len(argv) == 3 and argv[0] == "promtool-config":
        return 1 if promtool_config(argv[1], argv[2]) else 0
    if len(argv) >= 2 and argv[0] == "grafana":
        return 1 if check_grafana(argv[1:]) else 0
    if len(argv) == 2 and argv[0] == "otel":
        return 1 if check_otel(argv[1]) else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
