#!/usr/bin/env bash
# deploy/k8s/validate.sh — validates deploy/k8s/*.yaml against the Kubernetes and KEDA schemas
# with kubeconform (strict: unknown fields are errors; a kind without a schema is an error).
#
# Its tools come from the package registries this project uses, cached in <repo>/.cache/k8s:
#   kubeconform       go install github.com/yannh/kubeconform/cmd/kubeconform (Go module proxy)
#   Kubernetes        the per-kind JSON schemas in the kubernetes-validate wheel (PyPI), made
#                     standalone by deploy/k8s/schemas.py
#   KEDA              the ScaledObject CRD of the KEDA Go module (config/crd/bases), turned into
#                     a JSON schema by deploy/k8s/schemas.py
#
#   deploy/k8s/validate.sh [--install] [FILE...]
#     --install  only fetch and prepare the tools (deploy/local/install-deps.sh runs this);
#                fast when they are there
# Prints kubeconform's summary line; exits non-zero when a manifest is invalid.
set -euo pipefail

# shellcheck source=deploy/local/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../local/common.sh"

NT_KUBECONFORM_VERSION="${NT_KUBECONFORM_VERSION:-v0.6.7}"
NT_K8S_VERSION="${NT_K8S_VERSION:-1.32.0}"
NT_K8S_SCHEMA_PKG="${NT_K8S_SCHEMA_PKG:-kubernetes-validate==1.37.0}"
NT_KEDA_VERSION="${NT_KEDA_VERSION:-v2.16.1}"
K8S_CACHE="${NT_K8S_CACHE:-$NT_REPO/.cache/k8s}"
INSTALL_ONLY=false
# the kinds deploy/k8s/ uses; a new kind needs its name here
KINDS=(deployment-apps-v1 poddisruptionbudget-policy-v1 job-batch-v1 configmap-v1 secret-v1
    service-v1 serviceaccount-v1 namespace-v1 networkpolicy-networking-v1)

fingerprint() {
    printf '%s\n' "$NT_KUBECONFORM_VERSION" "$NT_K8S_VERSION" "$NT_K8S_SCHEMA_PKG" \
        "$NT_KEDA_VERSION" "${KINDS[*]}" "$(sha256sum "$NT_REPO/deploy/k8s/schemas.py")"
}

install_tools() {
    local want
    want="$(fingerprint)"
    if [[ -f "$K8S_CACHE/.complete" && "$(cat "$K8S_CACHE/.complete")" == "$want" &&
        -x "$K8S_CACHE/bin/kubeconform" ]]; then
        nt_step "k8s validation tools: cached in $K8S_CACHE"
        return 0
    fi
    if ! command -v go >/dev/null 2>&1; then
        # not fatal for install-deps: only tests/container/k8s_valid.sh needs it, and fails
        # with this message
        nt_warn "no 'go' on PATH: kubeconform is built from the Go module proxy (Go 1.21 or newer; Debian 12's golang-go is 1.19)"
        $INSTALL_ONLY && return 0
        nt_die "cannot validate deploy/k8s without kubeconform"
    fi
    [[ -x /usr/bin/python3 ]] && /usr/bin/python3 -c 'import yaml' 2>/dev/null ||
        nt_die "no /usr/bin/python3 with yaml: apt-get install python3-yaml (deploy/local/install-deps.sh)"
    rm -rf "$K8S_CACHE"
    mkdir -p "$K8S_CACHE/bin" "$K8S_CACHE/tmp"
    local log="$K8S_CACHE/install.log"
    nt_step "kubeconform $NT_KUBECONFORM_VERSION: go install (Go module proxy)"
    GOBIN="$K8S_CACHE/bin" GOTOOLCHAIN=local GOFLAGS=-buildvcs=false \
        go install "github.com/yannh/kubeconform/cmd/kubeconform@$NT_KUBECONFORM_VERSION" >>"$log" 2>&1 ||
        {
            tail -n 20 "$log" >&2
            nt_die "go install kubeconform failed (log: $log)"
        }
    nt_step "Kubernetes $NT_K8S_VERSION schemas: $NT_K8S_SCHEMA_PKG (PyPI)"
    python3 -m pip download -q --no-deps --disable-pip-version-check -d "$K8S_CACHE/tmp" \
        "$NT_K8S_SCHEMA_PKG" >>"$log" 2>&1 || nt_die "pip download $NT_K8S_SCHEMA_PKG failed (log: $log)"
    local whl dir="kubernetes_validate/kubernetes-json-schema/v$NT_K8S_VERSION-local-strict"
    whl="$(ls "$K8S_CACHE"/tmp/kubernetes_validate-*.whl)"
    python3 -m zipfile -e "$whl" "$K8S_CACHE/tmp/whl" >>"$log" 2>&1 || nt_die "cannot unpack $whl"
    [[ -d "$K8S_CACHE/tmp/whl/$dir" ]] || nt_die "$whl has no $dir (NT_K8S_VERSION=$NT_K8S_VERSION)"
    /usr/bin/python3 "$NT_REPO/deploy/k8s/schemas.py" kubernetes "$K8S_CACHE/tmp/whl/$dir" \
        "$K8S_CACHE/schemas/v$NT_K8S_VERSION-standalone-strict" "${KINDS[@]}"
    nt_step "KEDA $NT_KEDA_VERSION CRD schemas: go mod download github.com/kedacore/keda/v2"
    local moddir
    moddir="$(GOTOOLCHAIN=local GOFLAGS=-mod=mod go mod download -json \
        "github.com/kedacore/keda/v2@$NT_KEDA_VERSION" 2>>"$log" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
    [[ -f "$moddir/config/crd/bases/keda.sh_scaledobjects.yaml" ]] ||
        nt_die "the KEDA module has no config/crd/bases/keda.sh_scaledobjects.yaml (log: $log)"
    /usr/bin/python3 "$NT_REPO/deploy/k8s/schemas.py" crd \
        "$moddir/config/crd/bases/keda.sh_scaledobjects.yaml" "$K8S_CACHE/schemas/crds"
    rm -rf "$K8S_CACHE/tmp"
    printf '%s\n' "$want" >"$K8S_CACHE/.complete"
    nt_step "k8s validation tools: ready in $K8S_CACHE"
}

main() {
    local -a files=()
    while (($#)); do
        case "$1" in
        --install) INSTALL_ONLY=true ;;
        -h | --help)
            sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
            return 0
            ;;
        *) files+=("$1") ;;
        esac
        shift
    done
    install_tools
    $INSTALL_ONLY && return 0
    ((${#files[@]})) || files=("$NT_REPO"/deploy/k8s/*.yaml)
    "$K8S_CACHE/bin/kubeconform" -strict -summary -output text \
        -kubernetes-version "$NT_K8S_VERSION" \
        -schema-location "$K8S_CACHE/schemas/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json" \
        -schema-location "$K8S_CACHE/schemas/crds/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json" \
        "${files[@]}"
}

main "$@"
