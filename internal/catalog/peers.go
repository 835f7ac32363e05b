package catalog

import (
	"regexp"
	"strings"

	"github.com/dockvet/dockvet/internal/finding"
)

// Peer is a check of another tool, as that tool names and describes it.
type Peer struct {
	ID, Text string
}

// HadolintRules are hadolint's own DL checks (its README's rule table, v2),
// so that the mapping can say which have a dockvet counterpart and which do
// not. The texts are hadolint's one-line descriptions, shortened.
var HadolintRules = []Peer{
	{"DL1001", "Please refrain from using inline ignore pragmas"},
	{"DL3000", "Use absolute WORKDIR"},
	{"DL3001", "Commands that make no sense in a container (ssh, vim, shutdown, service, ps, free, top, kill, mount, ifconfig)"},
	{"DL3002", "Last user should not be root"},
	{"DL3003", "Use WORKDIR to switch to a directory"},
	{"DL3004", "Do not use sudo"},
	{"DL3006", "Always tag the version of an image explicitly"},
	{"DL3007", "Using latest is prone to errors; pin the version"},
	{"DL3008", "Pin versions in apt-get install"},
	{"DL3009", "Delete the apt-get lists after installing something"},
	{"DL3010", "Use ADD for extracting archives into an image"},
	{"DL3011", "Valid UNIX ports range from 0 to 65535"},
	{"DL3012", "Multiple HEALTHCHECK instructions"},
	{"DL3013", "Pin versions in pip"},
	{"DL3014", "Use the -y switch"},
	{"DL3015", "Avoid additional packages by specifying --no-install-recommends"},
	{"DL3016", "Pin versions in npm"},
	{"DL3018", "Pin versions in apk add"},
	{"DL3019", "Use the --no-cache switch with apk add"},
	{"DL3020", "Use COPY instead of ADD for files and folders"},
	{"DL3021", "COPY with more than 2 arguments requires the last argument to end with /"},
	{"DL3022", "COPY --from should reference a previously defined FROM alias"},
	{"DL3023", "COPY --from cannot reference its own FROM alias"},
	{"DL3024", "FROM aliases (stage names) must be unique"},
	{"DL3025", "Use arguments JSON notation for CMD and ENTRYPOINT arguments"},
	{"DL3026", "Use only an allowed registry in the FROM image"},
	{"DL3027", "Do not use apt; use apt-get or apt-cache"},
	{"DL3028", "Pin versions in gem install"},
	{"DL3029", "Do not use --platform flag with FROM"},
	{"DL3030", "Use the -y switch with yum install"},
	{"DL3032", "yum clean all missing after yum command"},
	{"DL3033", "Specify version with yum install"},
	{"DL3034", "Non-interactive switch missing from zypper command"},
	{"DL3035", "Do not use zypper dist-upgrade"},
	{"DL3036", "zypper clean missing after zypper use"},
	{"DL3037", "Specify version with zypper install"},
	{"DL3038", "Use the -y switch with dnf install"},
	{"DL3040", "dnf clean all missing after dnf command"},
	{"DL3041", "Specify version with dnf install"},
	{"DL3042", "Avoid cache directory with pip install --no-cache-dir"},
	{"DL3043", "ONBUILD, FROM or MAINTAINER triggered from within ONBUILD"},
	{"DL3044", "Do not refer to an environment variable within the same ENV statement where it is defined"},
	{"DL3045", "COPY to a relative destination without WORKDIR set"},
	{"DL3046", "useradd without flag -l and high UID will result in excessively large image"},
	{"DL3047", "wget without flag --progress bloats build logs"},
	{"DL3048", "Invalid label key"},
	{"DL3049", "Label is missing"},
	{"DL3050", "Superfluous label(s) present"},
	{"DL3051", "Label is empty"},
	{"DL3052", "Label is not a valid URL"},
	{"DL3053", "Label is not a valid RFC 3339 time"},
	{"DL3054", "Label is not a valid SPDX license identifier"},
	{"DL3055", "Label is not a valid git hash"},
	{"DL3056", "Label does not conform to semantic versioning"},
	{"DL3057", "HEALTHCHECK instruction missing"},
	{"DL3058", "Label is not a valid RFC 5322 email"},
	{"DL3059", "Multiple consecutive RUN instructions"},
	{"DL3060", "yarn cache clean missing after yarn install"},
	{"DL3061", "Invalid instruction order: the Dockerfile must begin with FROM, ARG or a comment"},
	{"DL3062", "Pin versions in go install"},
	{"DL3063", "Stage name should not be a reserved word"},
	{"DL3064", "Secrets in ENV or ARG (by their names)"},
	{"DL4000", "MAINTAINER is deprecated"},
	{"DL4001", "Either use wget or curl but not both"},
	{"DL4003", "Multiple CMD instructions found"},
	{"DL4004", "Multiple ENTRYPOINT instructions found"},
	{"DL4005", "Use SHELL to change the default shell"},
	{"DL4006", "Set the SHELL option -o pipefail before RUN with a pipe in it"},
}

// PeerTool names the tool an ID of another tool belongs to, "" when the
// ID is no other tool's.
func PeerTool(id string) string {
	u := strings.ToUpper(id)
	switch {
	case hadolintID.MatchString(u):
		return "hadolint"
	case shellcheckID.MatchString(u):
		return "ShellCheck (through hadolint)"
	case strings.HasPrefix(u, "AVD-DS-") || strings.HasPrefix(u, "DS-") || strings.HasPrefix(u, "DS0"):
		return "Trivy"
	case strings.HasPrefix(u, "CIS-DI-") || strings.HasPrefix(u, "DKL-"):
		return "Dockle"
	case strings.HasPrefix(u, "CKV"):
		return "Checkov"
	}
	return ""
}

var (
	hadolintID   = regexp.MustCompile(`^DL\d{4}$`)
	shellcheckID = regexp.MustCompile(`^SC\d{4}$`)
	dockvetID    = regexp.MustCompile(`^DV\d{4}$`)
)

// ByPeer returns the dockvet rules that carry the check another tool
// calls id (case-insensitive): the mapping is each rule's Peers field.
func ByPeer(id string) []finding.Rule {
	var out []finding.Rule
	for _, r := range All() {
		for _, p := range r.Peers {
			if strings.EqualFold(p, id) {
				out = append(out, r)
				break
			}
		}
	}
	return out
}

// Resolve returns the dockvet rule IDs id names: itself for a dockvet
// rule, its counterparts for another tool's ID, nil for neither.
func Resolve(id string) []string {
	if r, ok := Lookup(id); ok {
		return []string{r.ID}
	}
	var out []string
	for _, r := range ByPeer(id) {
		out = append(out, r.ID)
	}
	return out
}

// RuleLike reports whether id is written as a rule ID (dockvet's or a
// peer tool's), as opposed to a vulnerability ID (CVE-…, GHSA-…): an
// unknown rule-like ID in a configuration is a mistake worth a warning.
func RuleLike(id string) bool {
	return dockvetID.MatchString(strings.ToUpper(id)) || PeerTool(id) != ""
}

// HadolintText describes a hadolint rule, "" when hadolint has no such rule.
func HadolintText(id string) string {
	for _, p := range HadolintRules {
		if strings.EqualFold(p.ID, id) {
			return p.Text
		}
	}
	return ""
}
