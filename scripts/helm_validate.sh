#!/usr/bin/env bash
# Offline validation of the Helm chart: lint, render the scenarios, and validate every rendered
# built-in Kubernetes object against the API schemas (kubernetes-validate --strict). Custom
# resources (KEDA ScaledObject, ServiceMonitor, PrometheusRule) have no bundled schema; the
# chart tests (tests/helm/) check them structurally.
#
# helm is never downloaded as a binary: it is built from its Go module with the Go toolchain
# (through the Go module proxy) into .cache/bin the first time (a few minutes), then reused.
#
#   scripts/helm_validate.sh               # lint + render + validate
#   scripts/helm_validate.sh --ensure-helm # only make sure .cache/bin/helm exists; print its path
set -euo pipefail

HELM_VERSION="v3.20.2"
KUBE_VERSION="1.31.0"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CHART="$ROOT/helm/capi-relay"
BIN="$ROOT/.cache/bin"

find_helm() {
  if [ -n "${HELM:-}" ] && [ -x "${HELM}" ]; then echo "$HELM"; return 0; fi
  if [ -x "$BIN/helm" ]; then echo "$BIN/helm"; return 0; fi
  if command -v helm >/dev/null 2>&1; then command -v helm; return 0; fi
  if ! command -v go >/dev/null 2>&1; then
    echo "helm_validate: no helm and no Go toolchain to build it" >&2
    return 1
  fi
  echo "helm_validate: building helm $HELM_VERSION from its Go module (first run only)..." >&2
  mkdir -p "$BIN"
  GOBIN="$BIN" GOFLAGS="${GOFLAGS:--buildvcs=false}" go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
  echo "$BIN/helm"
}

HELM_BIN="$(find_helm)"
if [ "${1:-}" = "--ensure-helm" ]; then
  echo "$HELM_BIN"
  exit 0
fi

if ! python -c "import kubernetes_validate" >/dev/null 2>&1; then
  python -m pip install -q kubernetes-validate
fi

OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT

echo "+ helm lint"
"$HELM_BIN" lint "$CHART" --strict --kube-version "$KUBE_VERSION"
for values in "$CHART"/ci/*-values.yaml; do
  "$HELM_BIN" lint "$CHART" --strict --kube-version "$KUBE_VERSION" -f "$values"
done

render() {  # name, extra helm args...
  local name="$1"; shift
  echo "+ helm template ($name)"
  "$HELM_BIN" template capi-relay "$CHART" --namespace capi --kube-version "$KUBE_VERSION" "$@" \
    > "$OUT/$name.yaml"
}
render default
for values in "$CHART"/ci/*-values.yaml; do
  render "$(basename "$values" -values.yaml)" -f "$values"
done

echo "+ kubernetes-validate --strict (built-in kinds; custom resources are checked by tests/helm)"
python - "$OUT" "$KUBE_VERSION" <<'PY'
import pathlib
import subprocess
import sys

import yaml

CRD_GROUPS = ("keda.sh/", "monitoring.coreos.com/")
out = pathlib.Path(sys.argv[1])
builtin = out / "builtin"
builtin.mkdir()
files = []
for rendered in sorted(out.glob("*.yaml")):
    docs = [d for d in yaml.safe_load_all(rendered.read_text()) if d]
    keep = [d for d in docs if not str(d.get("apiVersion", "")).startswith(CRD_GROUPS)]
    skipped = sorted({d["kind"] for d in docs} - {d["kind"] for d in keep})
    target = builtin / rendered.name
    target.write_text(yaml.safe_dump_all(keep))
    files.append(str(target))
    print(f"  {rendered.stem}: {len(keep)} built-in object(s); custom resources not schema-checked: {skipped}")
sys.exit(subprocess.call(["kubernetes-validate", "--strict", "--quiet", "-k", sys.argv[2], *files]))
PY
echo "helm chart OK"
