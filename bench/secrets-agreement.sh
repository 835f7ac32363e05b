#!/bin/sh
# Recall and false positives of the secret engine on its peers' own test
# material, read from checkouts of github.com/aquasecurity/trivy and
# github.com/gitleaks/gitleaks at run time (nothing of theirs is kept in
# this repository; see bench/secretsagree for how each is read):
#
#   bench/secrets-agreement.sh TRIVY_CHECKOUT GITLEAKS_CHECKOUT [-v]
#
# gitleaks' samples are made by its own generator (go run, with two files
# replaced through -overlay), which needs the Go module proxy the first
# time to fetch gitleaks' dependencies. -v lists every miss and every
# flagged false sample.
#
# Measured on this machine (trivy and gitleaks checkouts of 2026-12, the
# samples drawn from gitleaks' generator with seeded randomness):
#
#   trivy: 35 fixture files, 46 findings expected of 31 built-in rules
#     recall, values as written:  41.3 % (19/46)
#     recall, realistic values:   95.7 % (44/46)
#     negative files flagged:     1 of 5 (testdata/example-secret.txt)
#   gitleaks: 220 rules, 6396 true and 337 false samples
#     recall, formats dockvet covers: 94.0 % (3704/3940)
#     recall, all true samples:       88.6 % (5667/6396)
#     false samples flagged:          3.0 % (10/337)
#
# Before issue 13 the same material gave 26 % (trivy) and 57 % / 12.3 %
# (gitleaks). docs/agreement.md explains every remaining difference.
set -eu
if [ $# -lt 2 ]; then
	echo "usage: $0 TRIVY_CHECKOUT GITLEAKS_CHECKOUT [-v]" >&2
	exit 2
fi
trivy=$1
gitleaks=$2
shift 2
cd "$(dirname "$0")/.."
exec go run ./bench/secretsagree -trivy "$trivy" -gitleaks "$gitleaks" "$@"
