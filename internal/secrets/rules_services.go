package secrets

import (
	"encoding/json"
	"strings"

	"github.com/dockvet/dockvet/internal/finding"
)

const uuidPattern = `[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`

// Messaging, AI and infrastructure services.

var twilioSecret = &Rule{
	Rule: finding.Rule{ID: "DV7079", Title: "Twilio auth token or API secret", Severity: finding.High,
		Description: "A Twilio account auth token or API key secret (32 characters) assigned to a name that mentions Twilio: it sends messages and calls billed to the account",
		Peers:       []string{"twilio-api-key"}},
	Keywords:  []string{"twilio"},
	Precheck:  assignment,
	Regex:     assign(`twilio`, `[A-Za-z0-9]{32}`),
	ValidName: SensitiveName,
	Valid:     randomToken(3.2),
	Boundary:  alnumChars,
}

var sendgridKey = &Rule{
	Rule: finding.Rule{ID: "DV7080", Title: "SendGrid API key", Severity: finding.High,
		Description: "A SendGrid API key (`SG.`, 22 characters, `.`, 43 characters): it sends mail as the account, the phisher's favourite",
		Peers:       []string{"sendgrid-api-token"}},
	Keywords:   []string{"SG."},
	Regex:      re(`SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}`),
	Boundary:   tokenChars,
	MinEntropy: 4.0,
}

var mailgunKey = &Rule{
	Rule: finding.Rule{ID: "DV7081", Title: "Mailgun API key", Severity: finding.High,
		Description: "A Mailgun private API key (`key-` and 32 hex digits, or the newer three-part hex key next to the word Mailgun): it sends mail and reads logs for the account's domains",
		Peers:       []string{"mailgun-private-api-token", "mailgun-token"}},
	Keywords:   []string{"key-", "mailgun"},
	Regex:      re(`key-[0-9a-f]{32}|(?i:mailgun)[\s\S]{0,60}?(?P<secret>[0-9a-f]{32}-[0-9a-f]{8}-[0-9a-f]{8})`),
	Boundary:   tokenChars,
	MinEntropy: 3.0,
}

var mailchimpKey = &Rule{
	Rule: finding.Rule{ID: "DV7082", Title: "Mailchimp API key", Severity: finding.High,
		Description: "A Mailchimp Marketing API key (32 hex digits, `-us`, the data-centre number): it reads and mails the audience lists",
		Peers:       []string{"mailchimp-api-key"}},
	Keywords:   []string{"-us"},
	Regex:      re(`[0-9a-f]{32}-us[0-9]{1,2}`),
	Boundary:   tokenChars,
	MinEntropy: 3.0,
	Near:       true,
	Before:     40,
	After:      8,
}

var openaiKey = &Rule{
	Rule: finding.Rule{ID: "DV7083", Title: "OpenAI API key", Severity: finding.High,
		Description: "An OpenAI API key (`sk-`, `sk-proj-`, `sk-svcacct-`, `sk-admin-`, `sk-service-NAME-` or `sk-None-`, with the `T3BlbkFJ` marker inside): it runs models billed to the organisation and reads its files",
		Peers:       []string{"openai-api-key", "openai-project-api-key", "openai-service-account-key", "openai-admin-api-key", "openai-legacy-api-key", "openai-service-api-key"}},
	Keywords:   []string{"T3BlbkFJ"},
	Regex:      re(`sk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,80}|service-[A-Za-z0-9-]{1,40}-[A-Za-z0-9]{20}|(?:None-)?[A-Za-z0-9]{20,42})T3BlbkFJ[A-Za-z0-9_-]{20,80}`),
	Boundary:   tokenChars,
	MinEntropy: 4.0,
	Near:       true,
	Before:     140,
	After:      100,
}

var openaiRealtimeSecret = &Rule{
	Rule: finding.Rule{ID: "DV7127", Title: "OpenAI Realtime client secret", Severity: finding.Low,
		Description: "An ephemeral OpenAI Realtime client secret (`ek_` and 32 hex digits), minted for a browser session: it opens Realtime sessions billed to the organisation until it expires, usually within minutes",
		Peers:       []string{"openai-realtime-client-secret"}},
	Keywords:   []string{"ek_"},
	Regex:      re(`ek_[a-f0-9]{32}`),
	Boundary:   tokenChars,
	MinEntropy: 3.0,
}

var anthropicKey = &Rule{
	Rule: finding.Rule{ID: "DV7084", Title: "Anthropic API key", Severity: finding.High,
		Description: "An Anthropic API, admin or OAuth key (`sk-ant-api03-`, `sk-ant-admin01-`, `sk-ant-oat01-`, about 95 characters ending in `AA`): it runs models billed to the organisation",
		Peers:       []string{"anthropic-api-key", "anthropic-admin-api-key"}},
	Keywords:   []string{"sk-ant-"},
	Regex:      re(`sk-ant-(?:api03|admin01|oat01|ort01)-[A-Za-z0-9_-]{80,110}AA`),
	Boundary:   tokenChars,
	MinEntropy: 4.0,
}

var huggingFaceToken = &Rule{
	Rule: finding.Rule{ID: "DV7085", Title: "Hugging Face token", Severity: finding.High,
		Description: "A Hugging Face user access token (`hf_` and 34 letters) or organisation API token (`api_org_`): it reads private models and datasets and may push to them",
		Peers:       []string{"huggingface-access-token", "huggingface-organization-api-token", "hugging-face-access-token"}},
	Keywords:   []string{"hf_", "api_org_"},
	Regex:      re(`(?:hf|api_org)_[A-Za-z]{34}`),
	Boundary:   tokenChars,
	MinEntropy: 4.0,
	Valid:      func(s string) bool { return hasLower(s[len(s)-34:]) && charClasses(s[len(s)-34:]) >= 2 },
}

var vaultToken = &Rule{
	Rule: finding.Rule{ID: "DV7086", Title: "HashiCorp Vault token", Severity: finding.Critical,
		Description: "A HashiCorp Vault service token (`hvs.` and about 90 characters, or a legacy `s.` token assigned to a Vault name): it reads every secret its policies allow",
		Peers:       []string{"vault-service-token"}},
	Keywords:   []string{"hvs.", "vault"},
	Regex:      re(`hvs\.[A-Za-z0-9_-]{90,}|` + assignPattern(`vault`, `s\.[A-Za-z0-9]{24}`)),
	ValidName:  SensitiveName,
	Boundary:   tokenChars,
	MinEntropy: 3.5,
}

var vaultBatchToken = &Rule{
	Rule: finding.Rule{ID: "DV7087", Title: "HashiCorp Vault batch token", Severity: finding.High,
		Description: "A HashiCorp Vault batch token (`hvb.` and at least 138 characters), valid until its TTL ends",
		Peers:       []string{"vault-batch-token"}},
	Keywords:   []string{"hvb."},
	Regex:      re(`hvb\.[A-Za-z0-9_-]{138,}`),
	After:      400,
	Boundary:   tokenChars,
	MinEntropy: 4.0,
}

var terraformCloudToken = &Rule{
	Rule: finding.Rule{ID: "DV7088", Title: "Terraform Cloud API token", Severity: finding.Critical,
		Description: "A Terraform Cloud / Enterprise API token (14 characters, `.atlasv1.`, 60–70 characters): it runs plans and applies against the organisation's workspaces and reads their state",
		Peers:       []string{"hashicorp-tf-api-token"}},
	Keywords:   []string{"atlasv1"},
	Regex:      re(`[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,70}`),
	Boundary:   tokenChars,
	MinEntropy: 4.0,
	Near:       true,
	Before:     16,
	After:      80,
}

var digitalOceanToken = &Rule{
	Rule: finding.Rule{ID: "DV7089", Title: "DigitalOcean token", Severity: finding.Critical,
		Description: "A DigitalOcean personal access, OAuth or refresh token (`dop_v1_`, `doo_v1_`, `dor_v1_` and 64 hex digits): it creates and destroys droplets, volumes and DNS",
		Peers:       []string{"digitalocean-pat", "digitalocean-access-token", "digitalocean-refresh-token"}},
	Keywords:   []string{"dop_v1_", "doo_v1_", "dor_v1_"},
	Regex:      re(`do[opr]_v1_[a-f0-9]{64}`),
	Boundary:   tokenChars,
	MinEntropy: 3.0,
}

var herokuKey = &Rule{
	Rule: finding.Rule{ID: "DV7090", Title: "Heroku API key", Severity: finding.Critical,
		Description: "A Heroku API key (`HRKU-AA` and 58 characters, or a UUID assigned to a Heroku name): it deploys, scales and reads the config vars of the account's apps",
		Peers:       []string{"heroku-api-key", "heroku-api-key-v2"}},
	Keywords:   []string{"HRKU-AA", "heroku"},
	Regex:      re(`HRKU-AA[0-9A-Za-z_-]{58}|` + assignPattern(`heroku`, uuidPattern)),
	ValidName:  SensitiveName,
	Boundary:   tokenChars,
	MinEntropy: 3.0,
}

var oktaToken = &Rule{
	Rule: finding.Rule{ID: "DV7091", Title: "Okta API token", Severity: finding.Critical,
		Description: "An Okta API (SSWS) token (`00` and 40 characters) assigned to a name that mentions Okta: it administers the organisation's users and applications"},
	Keywords: []string{"okta"},
	Precheck: assignment,
	Regex:    assign(`okta`, `00[A-Za-z0-9_-]{40}`),
	// "okta" must start a word of the name: rookTable is no Okta name.
	ValidName:  nameWord("okta"),
	Boundary:   tokenChars,
	MinEntropy: 4.0,
}

var grafanaToken = &Rule{
	Rule: finding.Rule{ID: "DV7092", Title: "Grafana token", Severity: finding.High,
		Description: "A Grafana service account token (`glsa_`), Grafana Cloud token (`glc_`) or legacy API key (`eyJrIjoi…`)",
		Peers:       []string{"grafana-api-key", "grafana-cloud-api-token", "grafana-service-account-token", "grafana-api-token"}},
	Keywords:   []string{"glsa_", "glc_", "eyJrIjoi"},
	Regex:      re(`glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}|glc_[A-Za-z0-9+/]{32,}={0,2}|eyJrIjoi[A-Za-z0-9]{70,}={0,2}`),
	After:      480,
	Boundary:   tokenChars,
	MinEntropy: 4.0,
}

var databricksToken = &Rule{
	Rule: finding.Rule{ID: "DV7093", Title: "Databricks token", Severity: finding.Critical,
		Description: "A Databricks personal access token (`dapi` and 32 hex digits): it runs jobs and reads data in the workspace",
		Peers:       []string{"databricks-api-token"}},
	Keywords:   []string{"dapi"},
	Regex:      re(`dapi[a-f0-9]{32}(?:-[0-9])?`),
	Boundary:   tokenChars,
	MinEntropy: 3.0,
}

var sentryToken = &Rule{
	Rule: finding.Rule{ID: "DV7094", Title: "Sentry token", Severity: finding.High,
		Description: "A Sentry user auth token (`sntryu_` and 64 hex digits) or organisation token (`sntrys_`, base64 of a JSON object with the token's `iat` and `url`, `_`, and the secret)",
		Peers:       []string{"sentry-access-token", "sentry-org-token", "sentry-user-token"}},
	Keywords:   []string{"sntryu_", "sntrys_"},
	Regex:      re(`sntryu_[a-f0-9]{64}|sntrys_eyJpYXQiO[A-Za-z0-9+/=_]{50,}`),
	After:      512,
	Boundary:   tokenChars,
	MinEntropy: 3.5,
	Valid: func(s string) bool {
		if !strings.HasPrefix(s, "sntrys_") {
			return true
		}
		body := s[len("sntrys_"):]
		i := strings.LastIndexByte(body, '_')
		if i < 0 {
			return false
		}
		data, ok := decodeBase64(strings.TrimRight(body[:i], "="))
		var claims struct {
			IAT *float64 `json:"iat"`
			URL string   `json:"url"`
		}
		return ok && json.Unmarshal(data, &claims) == nil && claims.IAT != nil && claims.URL != ""
	},
}

var dopplerToken = &Rule{
	Rule: finding.Rule{ID: "DV7095", Title: "Doppler token", Severity: finding.Critical,
		Description: "A Doppler personal, service, service account, CLI or SCIM token (`dp.pt.`, `dp.st.`, `dp.sa.`, `dp.ct.`, `dp.scim.`): it reads the project's secrets",
		Peers:       []string{"doppler-api-token"}},
	Keywords:   []string{"dp.pt.", "dp.st.", "dp.sa.", "dp.ct.", "dp.scim."},
	Regex:      re(`dp\.(?:pt|st|sa|ct|scim)\.[A-Za-z0-9_.]{40,60}`),
	Boundary:   tokenChars,
	MinEntropy: 4.0,
}

var planetScaleCredential = &Rule{
	Rule: finding.Rule{ID: "DV7096", Title: "PlanetScale credential", Severity: finding.Critical,
		Description: "A PlanetScale service token, OAuth token or database password (`pscale_tkn_`, `pscale_oauth_`, `pscale_pw_`)",
		Peers:       []string{"planetscale-api-token", "planetscale-oauth-token", "planetscale-password"}},
	Keywords:   []string{"pscale_"},
	Regex:      re(`pscale_(?:tkn|oauth|pw)_[A-Za-z0-9_=.-]{32,64}`),
	Boundary:   tokenChars,
	MinEntropy: 4.0,
}

var pulumiToken = &Rule{
	Rule: finding.Rule{ID: "DV7097", Title: "Pulumi access token", Severity: finding.High,
		Description: "A Pulumi Cloud access token (`pul-` and 40 hex digits): it reads stack state, which holds the stack's secrets",
		Peers:       []string{"pulumi-api-token"}},
	Keywords:   []string{"pul-"},
	Regex:      re(`pul-[a-f0-9]{40}`),
	Boundary:   tokenChars,
	MinEntropy: 3.0,
}

var postmanKey = &Rule{
	Rule: finding.Rule{ID: "DV7098", Title: "Postman API key", Severity: finding.High,
		Description: "A Postman API key (`PMAK-`, 24 and 34 hex digits): it reads the workspace's collections and environments, which hold other credentials",
		Peers:       []string{"postman-api-token"}},
	Keywords:   []string{"PMAK-"},
	Regex:      re(`PMAK-[a-f0-9]{24}-[a-f0-9]{34}`),
	Boundary:   tokenChars,
	MinEntropy: 3.0,
}

var newRelicKey = &Rule{
	Rule: finding.Rule{ID: "DV7100", Title: "New Relic user API key", Severity: finding.High,
		Description: "A New Relic user API key (`NRAK-` and 27 characters), which queries and changes the account's data and configuration, or an Insights insert key (`NRII-` and 32 characters), which writes events into it",
		Peers:       []string{"new-relic-user-api-key", "new-relic-insert-key"}},
	Keywords:   []string{"NRAK-", "NRII-"},
	Regex:      re(`NRAK-[A-Z0-9]{27}|NRII-[A-Za-z0-9_-]{32}`),
	Boundary:   tokenChars,
	MinEntropy: 3.5,
}
