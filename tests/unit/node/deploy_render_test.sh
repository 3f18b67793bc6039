#!/usr/bin/env bash
# Renders every kustomize overlay and checks what the cluster relies on.
set -euo pipefail
dir=$1
command -v kubectl > /dev/null || { echo "kubectl not installed: skipped"; exit 77; }
for overlay in "$dir"/base "$dir"/overlays/*; do
  out=$(kubectl kustomize "$overlay")
  for needle in "kind: Deployment" "readinessProbe:" "service: readiness" "livenessProbe:" \
                "kind: PodDisruptionBudget" "kind: ScaledObject" "type: postgresql" "SYNCFORCE_DATABASE_URL"; do
    grep -q "$needle" <<< "$out" || { echo "FAIL: $overlay renders without '$needle'"; exit 1; }
  done
  echo "ok: $overlay"
done
