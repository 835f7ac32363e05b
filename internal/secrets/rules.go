package secrets

import (
	"regexp"

	"github.com/dockvet/dockvet/internal/finding"
)

// Rules are the format-based secret rules.
var Rules = []*Rule{
	{
		ID: "DV7001", Title: "Private key", Severity: finding.Critical,
		Keywords: []string{"private key"},
		Regex:    regexp.MustCompile(`-----BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----`),
	},
	{
		ID: "DV7002", Title: "AWS access key ID", Severity: finding.High,
		Keywords: []string{"akia", "asia", "abia", "acca"},
		Regex:    regexp.MustCompile(`\b((?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b`), Group: 1,
	},
	{
		ID: "DV7003", Title: "GitHub token", Severity: finding.Critical,
		Keywords: []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"},
		Regex:    regexp.MustCompile(`\b(gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{82})\b`), Group: 1,
	},
	{
		ID: "DV7004", Title: "GitLab token", Severity: finding.Critical,
		Keywords: []string{"glpat-", "gldt-", "glrt-"},
		Regex:    regexp.MustCompile(`\b((?:glpat|gldt|glrt)-[A-Za-z0-9_-]{20,})`), Group: 1,
	},
	{
		ID: "DV7005", Title: "Slack token", Severity: finding.High,
		Keywords: []string{"xox"},
		Regex:    regexp.MustCompile(`\b(xox[baprse]-[0-9A-Za-z-]{10,})`), Group: 1,
	},
	{
		ID: "DV7006", Title: "Stripe secret key", Severity: finding.Critical,
		Keywords: []string{"sk_live_", "rk_live_"},
		Regex:    regexp.MustCompile(`\b((?:sk|rk)_live_[0-9a-zA-Z]{24,})`), Group: 1,
	},
	{
		ID: "DV7007", Title: "Google API key", Severity: finding.High,
		Keywords: []string{"aiza"},
		Regex:    regexp.MustCompile(`\b(AIza[0-9A-Za-z_-]{35})`), Group: 1,
	},
	{
		ID: "DV7008", Title: "npm access token", Severity: finding.Critical,
		Keywords: []string{"npm_"},
		Regex:    regexp.MustCompile(`\b(npm_[A-Za-z0-9]{36})\b`), Group: 1,
	},
	{
		ID: "DV7009", Title: "Docker Hub personal access token", Severity: finding.Critical,
		Keywords: []string{"dckr_pat_"},
		Regex:    regexp.MustCompile(`\b(dckr_pat_[A-Za-z0-9_-]{27,})`), Group: 1,
	},
	{
		ID: "DV7010", Title: "Password in a URL", Severity: finding.High,
		Keywords: []string{"://"},
		Regex:    regexp.MustCompile(`\b[a-zA-Z][a-zA-Z0-9+.-]{1,20}://[^/\s:@'"]{1,128}:([^/\s@'"]{1,256})@[^\s/'"]{1,256}`), Group: 1,
		Valid: func(s string) bool { return !IsReference(s) },
	},
	{
		ID: "DV7011", Title: "JSON Web Token", Severity: finding.Medium,
		Keywords: []string{"eyj"},
		Regex:    regexp.MustCompile(`\b(eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,})`), Group: 1,
	},
	{
		ID: "DV7012", Title: "Slack webhook URL", Severity: finding.High,
		Keywords: []string{"hooks.slack.com"},
		Regex:    regexp.MustCompile(`(https://hooks\.slack\.com/services/T[A-Z0-9]{6,}/B[A-Z0-9]{6,}/[A-Za-z0-9]{20,})`), Group: 1,
	},
}

// GenericRule is the context rule: a sensitive name with a literal value,
// or a password option on a command line.
var GenericRule = &Rule{ID: "DV7099", Title: "Credential in a sensitive variable or option", Severity: finding.High}

// Meta is the catalog entry of a secret rule.
func (r *Rule) Meta() finding.Rule {
	return finding.Rule{
		ID: r.ID, Title: r.Title, Practice: finding.PracticeSecrets, Severity: r.Severity,
		Surfaces: []finding.Surface{finding.SurfaceDockerfile, finding.SurfaceImage, finding.SurfaceCompose, finding.SurfaceContainer},
		CIS:      "4.10",
		Description: r.Title + " found in a place that ends up in an image, a container's configuration, or a repository. " +
			"Anyone who can pull the image or read the file can use it; deleting it in a later layer does not remove it.",
		Remediation: "Revoke and rotate the credential, remove it from the source, and pass it at build time with " +
			"`RUN --mount=type=secret` or at run time with a secret store (Docker/Compose secrets, a vault).",
		References: []string{"https://docs.docker.com/build/building/secrets/"},
	}
}

// Catalog lists the metadata of every secret rule.
func Catalog() []finding.Rule {
	out := make([]finding.Rule, 0, len(Rules)+1)
	for _, r := range append(Rules, GenericRule) {
		out = append(out, r.Meta())
	}
	return out
}
