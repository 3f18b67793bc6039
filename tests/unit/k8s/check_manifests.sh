#!/usr/bin/env bash
# CTest k8s_manifests: renders every overlay of deploy/k8s (and production with
# the optional servicemonitor component) with `kubectl kustomize`, then validates
# every object offline (validate.mjs: pinned schemas + cross-references).
# Exit 77 (skipped) without kubectl; npm packages come from package-lock.json.
set -euo pipefail
src=${SYNCFORCE_SOURCE_DIR:?SYNCFORCE_SOURCE_DIR is not set}
cd "$src"
if ! command -v kubectl > /dev/null; then
  echo "k8s_manifests: SKIPPED: kubectl is not installed (it renders the kustomizations; Debian does not package it)"
  exit 77
fi
for m in yaml kubernetes-models @kubernetes-models/keda @kubernetes-models/prometheus-operator; do
  if [[ ! -d node_modules/$m ]]; then
    echo "k8s_manifests: node_modules/$m is missing: run scripts/setup (npm ci from package-lock.json)" >&2
    exit 1
  fi
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

node tests/unit/k8s/validate.mjs --self-test

rendered=()
for overlay in deploy/k8s/overlays/*/; do
  name=$(basename "$overlay")
  kubectl kustomize "$overlay" > "$work/$name.yaml"
  rendered+=("$work/$name.yaml")
done
# The optional component on top of production, as an operator would enable it.
# (kustomize takes only relative roots.)
mkdir -p "$work/with-servicemonitor"
rel=$(realpath --relative-to="$work/with-servicemonitor" "$src/deploy/k8s")
cat > "$work/with-servicemonitor/kustomization.yaml" <<KUST
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - $rel/overlays/production
components:
  - $rel/components/servicemonitor
KUST
kubectl kustomize "$work/with-servicemonitor" > "$work/production+servicemonitor.yaml"
rendered+=("$work/production+servicemonitor.yaml")
grep -q '^kind: ServiceMonitor' "$work/production+servicemonitor.yaml"
grep -q '^kind: PrometheusRule' "$work/production+servicemonitor.yaml"

node tests/unit/k8s/validate.mjs "${rendered[@]}"
