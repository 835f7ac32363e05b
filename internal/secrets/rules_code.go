package secrets

import (
	"strings"

	"github.com/dockvet/dockvet/internal/finding"
)

// Source hosting: GitHub, GitLab, Bitbucket and Atlassian.

var githubClassicToken = &Rule{
	Rule: finding.Rule{ID: "DV7003", Title: "GitHub personal access token (classic)", Severity: finding.Critical,
		Description: "A classic GitHub personal access token: it acts as the user on every repository and organisation its scopes reach; `ghp_` and 36 base62 characters whose last six are a CRC32 checksum of the rest, which must match",
		Peers:       []string{"github-pat"}},
	Keywords: []string{"ghp_"},
	Regex:    re(`ghp_[A-Za-z0-9]{36}`),
	Valid:    githubChecksum,
	Boundary: tokenChars,
}

var githubOAuthToken = &Rule{
	Rule: finding.Rule{ID: "DV7038", Title: "GitHub OAuth access token", Severity: finding.Critical,
		Description: "A GitHub OAuth App access token, acting for the user who authorised the app; `gho_` and 36 base62 characters whose last six are a CRC32 checksum of the rest, which must match",
		Peers:       []string{"github-oauth"}},
	Keywords: []string{"gho_"},
	Regex:    re(`gho_[A-Za-z0-9]{36}`),
	Valid:    githubChecksum,
	Boundary: tokenChars,
}

var githubUserToServerToken = &Rule{
	Rule: finding.Rule{ID: "DV7039", Title: "GitHub user-to-server token", Severity: finding.Critical,
		Description: "A GitHub App user-to-server token, acting for a user through a GitHub App; `ghu_` and 36 base62 characters whose last six are a CRC32 checksum of the rest, which must match",
		Peers:       []string{"github-app-token"}},
	Keywords: []string{"ghu_"},
	Regex:    re(`ghu_[A-Za-z0-9]{36}`),
	Valid:    githubChecksum,
	Boundary: tokenChars,
}

var githubInstallationToken = &Rule{
	Rule: finding.Rule{ID: "DV7040", Title: "GitHub installation access token", Severity: finding.Critical,
		Description: "A GitHub App server-to-server (installation) token or an Actions GITHUB_TOKEN, acting as the app on the repositories it is installed on: `ghs_` and 36 base62 characters whose last six are a CRC32 checksum of the rest, which must match, or the stateless form `ghs_`, the installation ID, `_` and a JWT",
		Peers:       []string{"github-app-token"}},
	Keywords: []string{"ghs_"},
	Regex:    re(`ghs_[0-9]+_eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{16,}|ghs_[A-Za-z0-9]{36}`),
	Valid: func(s string) bool {
		if i := strings.Index(s, "_eyJ"); i > 0 {
			return jwtShaped(s[i+1:])
		}
		return githubChecksum(s)
	},
	After:    2048,
	Boundary: tokenChars,
}

var githubRefreshToken = &Rule{
	Rule: finding.Rule{ID: "DV7041", Title: "GitHub refresh token", Severity: finding.Critical,
		Description: "A GitHub App refresh token, which mints new user-to-server tokens; `ghr_` and 36 base62 characters whose last six are a CRC32 checksum of the rest, which must match",
		Peers:       []string{"github-refresh-token"}},
	Keywords: []string{"ghr_"},
	Regex:    re(`ghr_[A-Za-z0-9]{36}`),
	Valid:    githubChecksum,
	Boundary: tokenChars,
}

var githubFineGrainedPAT = &Rule{
	Rule: finding.Rule{ID: "DV7042", Title: "GitHub fine-grained personal access token", Severity: finding.Critical,
		Description: "A fine-grained GitHub personal access token (`github_pat_`, 22 characters, `_`, 59 characters), acting as its owner on the repositories it was granted",
		Peers:       []string{"github-fine-grained-pat"}},
	Keywords: []string{"github_pat_"},
	// The prefix is long and distinctive enough to be found glued to
	// the word before it; nothing may follow the token.
	Regex:      re(`(?P<secret>github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})(?:[^A-Za-z0-9_-]|$)`),
	MinEntropy: 4.0,
}

var gitlabPAT = &Rule{
	Rule: finding.Rule{ID: "DV7004", Title: "GitLab personal access token", Severity: finding.Critical,
		Description: "A GitLab personal, project or group access token (`glpat-` and 20 characters, or the routable form with a `.` and a 9-character suffix), acting as its user through the API and Git",
		Peers:       []string{"gitlab-pat", "gitlab-pat-routable"}},
	Keywords:   []string{"glpat-"},
	Regex:      re(`glpat-(?:[0-9A-Za-z_-]{27,}\.[0-9a-z]{9}|[0-9A-Za-z_-]{20})`),
	After:      400,
	Boundary:   tokenChars,
	MinEntropy: 3.5,
}

var gitlabDeployToken = &Rule{
	Rule: finding.Rule{ID: "DV7043", Title: "GitLab deploy token", Severity: finding.High,
		Description: "A GitLab deploy token (`gldt-` and 20 characters), which reads (and may write) a project's repository, packages and container registry",
		Peers:       []string{"gitlab-deploy-token"}},
	Keywords:   []string{"gldt-"},
	Regex:      re(`gldt-[0-9A-Za-z_-]{20}`),
	Boundary:   tokenChars,
	MinEntropy: 3.5,
}

var gitlabRunnerToken = &Rule{
	Rule: finding.Rule{ID: "DV7044", Title: "GitLab runner token", Severity: finding.High,
		Description: "A GitLab runner authentication token (`glrt-`) or legacy registration token (`GR1348941`): it registers runners that receive CI jobs, their variables and their secrets",
		Peers:       []string{"gitlab-rrt", "gitlab-runner-authentication-token", "gitlab-runner-authentication-token-routable"}},
	Keywords:   []string{"glrt-", "GR1348941"},
	Regex:      re(`glrt-(?:t\d_[0-9A-Za-z_-]{27,}\.[0-9a-z]{9}|[0-9A-Za-z_-]{20})|GR1348941[0-9A-Za-z_-]{20}`),
	After:      400,
	Boundary:   tokenChars,
	MinEntropy: 3.5,
}

var gitlabTriggerToken = &Rule{
	Rule: finding.Rule{ID: "DV7045", Title: "GitLab pipeline trigger token", Severity: finding.High,
		Description: "A GitLab pipeline trigger token (`glptt-` and 40 hex digits), which starts pipelines as the token's owner",
		Peers:       []string{"gitlab-ptt"}},
	Keywords:   []string{"glptt-"},
	Regex:      re(`glptt-[0-9a-f]{40}`),
	Boundary:   tokenChars,
	MinEntropy: 3.0,
}

var gitlabJobToken = &Rule{
	Rule: finding.Rule{ID: "DV7046", Title: "GitLab CI/CD job token", Severity: finding.Medium,
		Description: "A GitLab CI/CD job token (`glcbt-`), valid while its job runs, with access to the project's API, packages and registry",
		Peers:       []string{"gitlab-cicd-job-token"}},
	Keywords:   []string{"glcbt-"},
	Regex:      re(`glcbt-[0-9A-Za-z]{1,5}_[0-9A-Za-z_-]{20}`),
	Boundary:   tokenChars,
	MinEntropy: 3.5,
}

var gitlabServiceToken = &Rule{
	Rule: finding.Rule{ID: "DV7047", Title: "GitLab service token", Severity: finding.High,
		Description: "Another GitLab token: OAuth application secret (`gloas-`), SCIM token (`glsoat-`), feature-flag client token (`glffct-`), feed token (`glft-`), incoming mail token (`glimt-`) or Kubernetes agent token (`glagent-`)",
		Peers:       []string{"gitlab-oauth-app-secret", "gitlab-scim-token", "gitlab-feature-flag-client-token", "gitlab-feed-token", "gitlab-incoming-mail-token", "gitlab-kubernetes-agent-token"}},
	Keywords:   []string{"gloas-", "glsoat-", "glffct-", "glft-", "glimt-", "glagent-"},
	Regex:      re(`gloas-[0-9A-Za-z_-]{64}|glsoat-[0-9A-Za-z_-]{20}|glffct-[0-9A-Za-z_-]{20}|glft-[0-9A-Za-z_-]{20}|glimt-[0-9A-Za-z_-]{25}|glagent-[0-9A-Za-z_-]{50}`),
	Boundary:   tokenChars,
	MinEntropy: 3.5,
}

var bitbucketAppPassword = &Rule{
	Rule: finding.Rule{ID: "DV7048", Title: "Bitbucket app password", Severity: finding.Critical,
		Description: "A Bitbucket Cloud app password (`ATBB` and about 32 characters), used with the username for Git and API access"},
	Keywords:   []string{"ATBB"},
	Regex:      re(`ATBB[A-Za-z0-9_=.-]{28,40}`),
	Boundary:   tokenChars,
	MinEntropy: 3.8,
	Valid:      func(s string) bool { return charClasses(s) >= 3 },
}

var atlassianAPIToken = &Rule{
	Rule: finding.Rule{ID: "DV7049", Title: "Atlassian API token", Severity: finding.Critical,
		Description: "An Atlassian Cloud API token (`ATATT3` and 186 characters) for Jira, Confluence and Bitbucket, used with the account's e-mail address",
		Peers:       []string{"atlassian-api-token"}},
	Keywords:   []string{"ATATT3"},
	Regex:      re(`ATATT3[A-Za-z0-9_=-]{186}`),
	Boundary:   tokenChars,
	MinEntropy: 4.0,
}

var jiraLegacyToken = &Rule{
	Rule: finding.Rule{ID: "DV7050", Title: "Jira or Confluence API token (legacy)", Severity: finding.High,
		Description: "A 24-character Atlassian API token of the older format, assigned to a name that mentions Jira, Confluence or Atlassian",
		Peers:       []string{"atlassian-api-token"}},
	Keywords:  []string{"jira", "confluence", "atlassian"},
	Precheck:  assignment,
	Regex:     assign(`jira|confluence|atlassian`, `[A-Za-z0-9]{24}`),
	ValidName: func(n string) bool { return SensitiveName(n) },
	Valid:     randomToken(3.5),
	Boundary:  alnumChars,
}
