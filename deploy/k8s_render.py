"""Render deploy/k8s kustomizations in Python, for checks on machines without kustomize.

Supports what deploy/k8s uses: `resources` (files and directories), `namespace`, `images`
(newName, newTag, digest) and `patches` (strategic merge: dictionaries merge, lists of named
items merge by name, other lists are replaced). tests/deploy compares the result with
`kubectl kustomize` where that is installed.
`python -m deploy.k8s_render deploy/k8s/overlays/production > production.yaml`.
"""

import copy
import sys
from pathlib import Path
from typing import Any

import yaml

# Kinds that live outside any namespace (the subset deploy/k8s could use).
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition"}
Manifest = dict[str, Any]


def render(directory: Path) -> list[Manifest]:
    """Every manifest of the kustomization in `directory`, transformed as it says."""
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    manifests: list[Manifest] = []
    for resource in kustomization.get("resources", []):
        path = directory / resource
        manifests += render(path) if path.is_dir() else _load(path)
    for patch in kustomization.get("patches", []):
        for document in _load(directory / patch["path"]):
            _apply_patch(manifests, document)
    for image in kustomization.get("images", []):
        for manifest in manifests:
            _set_image(manifest, image)
    namespace = kustomization.get("namespace")
    if namespace:
        for manifest in manifests:
            if manifest["kind"] not in CLUSTER_SCOPED:
                manifest["metadata"]["namespace"] = namespace
    return manifests


def _load(path: Path) -> list[Manifest]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def _apply_patch(manifests: list[Manifest], patch: Manifest) -> None:
    for manifest in manifests:
        if (manifest["kind"], manifest["metadata"]["name"]) == (
            patch["kind"],
            patch["metadata"]["name"],
        ):
            merged = strategic_merge(manifest, patch)
            manifest.clear()
            manifest.update(merged)
            return
    raise ValueError(f"patch matches no resource: {patch['kind']}/{patch['metadata']['name']}")


def strategic_merge(base: Any, patch: Any) -> Any:
    """Merge `patch` into a copy of `base` the way kustomize merges these manifests."""
    if isinstance(base, dict) and isinstance(patch, dict):
        merged = copy.deepcopy(base)
        for key, value in patch.items():
            merged[key] = strategic_merge(base[key], value) if key in base else value
        return merged
    if _named_list(base) and _named_list(patch):
        merged_list = copy.deepcopy(base)
        index = {item["name"]: i for i, item in enumerate(merged_list)}
        for item in patch:
            if item["name"] in index:
                position = index[item["name"]]
                merged_list[position] = strategic_merge(merged_list[position], item)
            else:
                merged_list.append(item)
        return merged_list
    return copy.deepcopy(patch)


def _named_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(i, dict) and "name" in i for i in value)


def _set_image(manifest: Manifest, image: dict[str, str]) -> None:
    for container in _containers(manifest):
        name, _, _ = container["image"].partition("@")
        name = name.rsplit(":", 1)[0] if ":" in name.rsplit("/", 1)[-1] else name
        if name != image["name"]:
            continue
        reference = image.get("newName", name)
        if "digest" in image:
            reference += "@" + image["digest"]
        elif "newTag" in image:
            reference += ":" + image["newTag"]
        container["image"] = reference


def _containers(manifest: Manifest) -> list[dict[str, Any]]:
    spec = manifest.get("spec", {})
    pod = spec.get("template", {}).get("spec", {})
    return [*pod.get("initContainers", []), *pod.get("containers", [])]


def main(argv: list[str]) -> int:
    sys.stdout.write(yaml.safe_dump_all(render(Path(argv[0])), sort_keys=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
