#!/usr/bin/env bash
# Agreement of dockvet's Dockerfile rules with two peers' own test suites:
# hadolint's rule specs and trivy-checks' Dockerfile tests and examples,
# read at run time from local checkouts (never committed here).
#
#   bench/agreement.sh HADOLINT_CHECKOUT TRIVY_CHECKS_CHECKOUT [-v]
#   git clone --depth 1 https://github.com/hadolint/hadolint /tmp/hadolint
#   git clone --depth 1 https://github.com/aquasecurity/trivy-checks /tmp/trivy-checks
#   bench/agreement.sh /tmp/hadolint /tmp/trivy-checks -v
#
# Prints agreement per peer rule and overall; -v lists every disagreement
# with its Dockerfile. docs/agreement.md explains each one and records the
# figures of the last run.
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: bench/agreement.sh HADOLINT_CHECKOUT TRIVY_CHECKS_CHECKOUT [-v]" >&2; exit 2; }
hadolint=$(realpath "$1")/test/Hadolint/Rule
trivy=$(realpath "$2")/checks/docker
shift 2
cd "$(dirname "$0")/.."
exec go run ./bench/agreement -hadolint "$hadolint" -trivy "$trivy" "$@"
