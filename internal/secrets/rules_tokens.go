package secrets

import "github.com/dockvet/dockvet/internal/finding"

// Prefixed tokens of other services: each recognised by its issuer's
// prefix and length, as gitleaks' and trivy's rule sets know them.

var onePasswordCredential = &Rule{
	Rule: finding.Rule{ID: "DV7132", Title: "1Password secret key or service account token", Severity: finding.Critical,
		Description: "A 1Password account Secret Key (`A3-` and five groups of letters and digits), which with the account password opens the vault, or a service account token (`ops_` and base64 of its JSON), which reads the vaults it was granted",
		Peers:       []string{"1password-secret-key", "1password-service-account-token"}},
	Keywords:   []string{"A3-", "ops_eyJ"},
	Regex:      re(`A3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}|ops_eyJ[A-Za-z0-9+/_-]{250,}={0,3}`),
	After:      4096,
	Boundary:   tokenChars,
	MinEntropy: 3.0,
}

var adobeClientSecret = &Rule{
	Rule: finding.Rule{ID: "DV7133", Title: "Adobe client secret", Severity: finding.High,
		Description: "An Adobe Developer Console OAuth client secret (`p8e-` and 32 letters and digits)",
		Peers:       []string{"adobe-client-secret"}},
	Keywords:   []string{"p8e-"},
	Regex:      re(`p8e-[A-Za-z0-9]{32}`),
	Boundary:   tokenChars,
	MinEntropy: 3.5,
}

var airtableToken = &Rule{
	Rule: finding.Rule{ID: "DV7134", Title: "Airtable personal access token", Severity: finding.High,
		Description: "An Airtable personal access token (`pat`, 14 characters, `.` and 64 hex digits): it reads and writes the bases it was granted",
		Peers:       []string{"airtable-personnal-access-token"}},
	Keywords:   []string{"pat"},
	Regex:      re(`pat[A-Za-z0-9]{14}\.[a-f0-9]{64}`),
	Precheck:   func(rest []byte) bool { return len(rest) > 15 && rest[14] == '.' },
	Boundary:   tokenChars,
	MinEntropy: 3.5,
}

var authressKey = &Rule{
	Rule: finding.Rule{ID: "DV7135", Title: "Authress service client access key", Severity: finding.High,
		Description: "An Authress service client access key (`sc_…`, `ext_…` or `authress_…`, with an `acc_` account part): it calls the Authress API as the service client",
		Peers:       []string{"authress-service-client-access-key"}},
	Keywords:   []string{".acc_", ".acc-"},
	Regex:      re(`(?:sc|ext|scauth|authress)_[A-Za-z0-9]{5,30}\.[A-Za-z0-9]{4,6}\.acc[_-][a-z0-9-]{10,32}\.[A-Za-z0-9+/_=-]{30,120}`),
	Boundary:   tokenChars,
	MinEntropy: 3.5,
	Near:       true,
	Before:     48,
	After:      160,
}

var clojarsToken = &Rule{
	Rule: finding.Rule{ID: "DV7138", Title: "Clojars deploy token", Severity: finding.High,
		Description: "A Clojars deploy token (`CLOJARS_` and 60 characters): it publishes Clojure libraries as its owner",
		Peers:       []string{"clojars-api-token"}},
	Keywords:   []string{"CLOJARS_"},
	Regex:      re(`CLOJARS_[a-z0-9]{60}`),
	Boundary:   tokenChars,
	MinEntropy: 3.0,
}

var definedNetworkingToken = &Rule{
	Rule: finding.Rule{ID: "DV7139", Title: "Defined Networking API token", Severity: finding.High,
		Description: "A Defined Networking (managed Nebula) API token (`dnkey-`): it enrols hosts into the overlay network",
		Peers:       []string{"defined-networking-api-token"}},
	Keywords:   []string{"dnkey-"},
	Regex:      re(`dnkey-[A-Za-z0-9=_-]{26}-[A-Za-z0-9=_-]{52}`),
	Boundary:   tokenChars,
	MinEntropy: 3.5,
}

var duffelToken = &Rule{
	Rule: finding.Rule{ID: "DV7140", Title: "Duffel API token", Severity: finding.High,
		Description: "A Duffel travel API access token (`duffel_live_` or `duffel_test_` and 43 characters): the live one books and pays for flights",
		Peers:       []string{"duffel-api-token"}},
	Keywords:   []string{"duffel_live_", "duffel_test_"},
	Regex:      re(`duffel_(?:live|test)_[A-Za-z0-9_=-]{43}`),
	Boundary:   tokenChars,
	MinEntropy: 3.5,
}

var dynatraceToken = &Rule{
	Rule: finding.Rule{ID: "DV7141", Title: "Dynatrace API token", Severity: finding.High,
		Description: "A Dynatrace API token (`dt0c01.`, 24 characters, `.`, 64 characters)",
		Peers:       []string{"dynatrace-api-token"}},
	Keywords:   []string{"dt0c01."},
	Regex:      re(`dt0c01\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{64}`),
	Boundary:   tokenChars,
	MinEntropy: 3.5,
}

var easypostKey = &Rule{
	Rule: finding.Rule{ID: "DV7142", Title: "EasyPost API key", Severity: finding.High,
		Description: "An EasyPost production or test API key (`EZAK` or `EZTK` and 54 characters): the production key buys shipping labels on the account",
		Peers:       []string{"easypost-api-token", "easypost-test-api-token"}},
	Keywords:   []string{"EZAK", "EZTK"},
	Regex:      re(`EZ[AT]K[A-Za-z0-9]{54}`),
	Boundary:   tokenChars,
	MinEntropy: 3.5,
}

var facebookToken = &Rule{
	Rule: finding.Rule{ID: "DV7143", Title: "Facebook access token", Severity: finding.High,
		Description: "A Facebook (Meta) user or page access token (`EAAM…`/`EAAC…`, over 100 characters): it acts for the user or page on the Graph API",
		Peers:       []string{"facebook-page-access-token"}},
	Keywords:   []string{"EAAM", "EAAC"},
	Regex:      re(`EAA[MC][A-Za-z0-9]{100,}`),
	After:      1024,
	Boundary:   tokenChars,
	MinEntropy: 4.0,
}

var flutterwaveKey = &Rule{
	Rule: finding.Rule{ID: "DV7144", Title: "Flutterwave secret or encryption key", Severity: finding.High,
		Description: "A Flutterwave secret key (`FLWSECK-` or `FLWSECK_TEST-`, 32 hex digits, `-X`) or encryption key (`FLWSECK_TEST` and 12 hex digits): the live secret key moves money",
		Peers:       []string{"flutterwave-secret-key", "flutterwave-encryption-key"}},
	Keywords:   []string{"FLWSECK"},
	Regex:      re(`FLWSECK(?:_TEST)?-[a-hA-H0-9]{32}-X|FLWSECK_TEST-?[a-hA-H0-9]{12}`),
	Boundary:   tokenChars,
	MinEntropy: 3.0,
}

var flyioToken = &Rule{
	Rule: finding.Rule{ID: "DV7145", Title: "Fly.io access token", Severity: finding.High,
		Description: "A Fly.io access token (`fo1_` and 43 characters, or a macaroon `fm1a_`, `fm1r_`, `fm2_`): it deploys and manages the organisation's apps and reads their secrets",
		Peers:       []string{"flyio-access-token"}},
	Keywords:   []string{"fo1_", "fm1a_", "fm1r_", "fm2_"},
	Regex:      re(`fo1_[A-Za-z0-9_-]{43}|fm1[ar]_[A-Za-z0-9+/]{100,}={0,3}|fm2_[A-Za-z0-9+/,=_-]{100,}`),
	After:      4096,
	Boundary:   tokenChars,
	MinEntropy: 3.5,
}

var frameioToken = &Rule{
	Rule: finding.Rule{ID: "DV7146", Title: "Frame.io API token", Severity: finding.High,
		Description: "A Frame.io developer token (`fio-u-` and 64 characters)",
		Peers:       []string{"frameio-api-token"}},
	Keywords:   []string{"fio-u-"},
	Regex:      re(`fio-u-[A-Za-z0-9_=-]{64}`),
	Boundary:   tokenChars,
	MinEntropy: 3.5,
}

var gitlabSessionCookie = &Rule{
	Rule: finding.Rule{ID: "DV7147", Title: "GitLab session cookie", Severity: finding.High,
		Description: "A GitLab `_gitlab_session` cookie value: whoever holds it is logged in as the user until the session ends",
		Peers:       []string{"gitlab-session-cookie"}},
	Keywords:   []string{"_gitlab_session="},
	Regex:      re(`_gitlab_session=(?P<secret>[0-9a-z]{32})`),
	Boundary:   alnumChars,
	MinEntropy: 3.0,
}

var harnessKey = &Rule{
	Rule: finding.Rule{ID: "DV7148", Title: "Harness API key", Severity: finding.High,
		Description: "A Harness personal access token or service account token (`pat.` or `sat.` and three dot-separated parts): it runs pipelines and reads the account's connectors",
		Peers:       []string{"harness-api-key"}},
	Keywords:   []string{"pat.", "sat."},
	Regex:      re(`(?:pat|sat)\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{20}`),
	Boundary:   tokenChars,
	MinEntropy: 3.5,
}

var infracostToken = &Rule{
	Rule: finding.Rule{ID: "DV7149", Title: "Infracost API key", Severity: finding.Medium,
		Description: "An Infracost API key (`ico-` and 32 letters and digits)",
		Peers:       []string{"infracost-api-token"}},
	Keywords: []string{"ico-"},
	Regex:    re(`ico-[A-Za-z0-9]{32}`),
	// After a dot, "ico-" ends a file name (favicon.ico-3f2a….png).
	Boundary:   tokenChars + ".",
	MinEntropy: 3.5,
}

var intra42Secret = &Rule{
	Rule: finding.Rule{ID: "DV7150", Title: "42 Intra client secret", Severity: finding.Medium,
		Description: "A 42 school Intra API client secret (`s-s4t2ud-` or `s-s4t2af-` and 64 hex digits)",
		Peers:       []string{"intra42-client-secret"}},
	Keywords:   []string{"s-s4t2"},
	Regex:      re(`s-s4t2(?:ud|af)-[a-f0-9]{64}`),
	Boundary:   tokenChars,
	MinEntropy: 3.0,
}

var linearKey = &Rule{
	Rule: finding.Rule{ID: "DV7151", Title: "Linear API key", Severity: finding.High,
		Description: "A Linear personal API key (`lin_api_` and 40 characters): it reads and writes the workspace's issues",
		Peers:       []string{"linear-api-key"}},
	Keywords:   []string{"lin_api_"},
	Regex:      re(`lin_api_[A-Za-z0-9]{40}`),
	Boundary:   tokenChars,
	MinEntropy: 3.5,
}

var notionToken = &Rule{
	Rule: finding.Rule{ID: "DV7152", Title: "Notion integration token", Severity: finding.High,
		Description: "A Notion integration token (`ntn_`, 11 digits and 35 letters and digits): it reads and writes the pages shared with the integration",
		Peers:       []string{"notion-api-token"}},
	Keywords:   []string{"ntn_"},
	Regex:      re(`ntn_[0-9]{11}[A-Za-z0-9]{35}`),
	Boundary:   tokenChars,
	MinEntropy: 3.5,
}

var octopusKey = &Rule{
	Rule: finding.Rule{ID: "DV7153", Title: "Octopus Deploy API key", Severity: finding.High,
		Description: "An Octopus Deploy API key (`API-` and 26 capital letters and digits): it deploys releases to the environments its user may reach",
		Peers:       []string{"octopus-deploy-api-key"}},
	Keywords:   []string{"API-"},
	Regex:      re(`API-[A-Z0-9]{26}`),
	Boundary:   tokenChars,
	MinEntropy: 3.5,
	Valid:      func(s string) bool { return charClasses(s[4:]) >= 2 },
}

var openshiftToken = &Rule{
	Rule: finding.Rule{ID: "DV7154", Title: "OpenShift user token", Severity: finding.High,
		Description: "An OpenShift OAuth access token (`sha256~` and 43 characters), as `oc login --token` takes it: it acts as the user on the cluster",
		Peers:       []string{"openshift-user-token"}},
	Keywords:   []string{"sha256~"},
	Regex:      re(`sha256~[A-Za-z0-9_-]{43}`),
	Boundary:   tokenChars,
	MinEntropy: 3.5,
}

var perplexityKey = &Rule{
	Rule: finding.Rule{ID: "DV7155", Title: "Perplexity API key", Severity: finding.High,
		Description: "A Perplexity API key (`pplx-` and 48 letters and digits): it runs models billed to the account",
		Peers:       []string{"perplexity-api-key"}},
	Keywords:   []string{"pplx-"},
	Regex:      re(`pplx-[A-Za-z0-9]{48}`),
	Boundary:   tokenChars,
	MinEntropy: 3.5,
}

var prefectToken = &Rule{
	Rule: finding.Rule{ID: "DV7156", Title: "Prefect API key", Severity: finding.High,
		Description: "A Prefect Cloud API key (`pnu_` and 36 letters and digits): it runs and changes the workspace's flows",
		Peers:       []string{"prefect-api-token"}},
	Keywords:   []string{"pnu_"},
	Regex:      re(`pnu_[A-Za-z0-9]{36}`),
	Boundary:   tokenChars,
	MinEntropy: 3.5,
}

var readmeKey = &Rule{
	Rule: finding.Rule{ID: "DV7157", Title: "ReadMe API key", Severity: finding.Medium,
		Description: "A ReadMe API key (`rdme_` and 70 characters): it edits the project's documentation",
		Peers:       []string{"readme-api-token"}},
	Keywords:   []string{"rdme_"},
	Regex:      re(`rdme_[a-z0-9]{70}`),
	Boundary:   tokenChars,
	MinEntropy: 3.5,
}

var scalingoToken = &Rule{
	Rule: finding.Rule{ID: "DV7158", Title: "Scalingo API token", Severity: finding.High,
		Description: "A Scalingo API token (`tk-us-` and 48 characters): it deploys and configures the account's apps",
		Peers:       []string{"scalingo-api-token"}},
	Keywords:   []string{"tk-us-"},
	Regex:      re(`tk-us-[A-Za-z0-9_-]{48}`),
	Boundary:   tokenChars,
	MinEntropy: 3.5,
}

var sendinblueKey = &Rule{
	Rule: finding.Rule{ID: "DV7159", Title: "Brevo (Sendinblue) API key", Severity: finding.High,
		Description: "A Brevo (formerly Sendinblue) API key (`xkeysib-`, 64 hex digits, `-`, 16 characters): it sends mail as the account",
		Peers:       []string{"sendinblue-api-token"}},
	Keywords:   []string{"xkeysib-"},
	Regex:      re(`xkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16}`),
	Boundary:   tokenChars,
	MinEntropy: 3.0,
}

var settlemintToken = &Rule{
	Rule: finding.Rule{ID: "DV7160", Title: "SettleMint access token", Severity: finding.High,
		Description: "A SettleMint personal, application or service access token (`sm_pat_`, `sm_aat_`, `sm_sat_` and 16 characters)",
		Peers:       []string{"settlemint-personal-access-token", "settlemint-application-access-token", "settlemint-service-access-token"}},
	Keywords:   []string{"sm_pat_", "sm_aat_", "sm_sat_"},
	Regex:      re(`sm_(?:pat|aat|sat)_[A-Za-z0-9]{16}`),
	Boundary:   tokenChars,
	MinEntropy: 3.0,
}

var shippoToken = &Rule{
	Rule: finding.Rule{ID: "DV7161", Title: "Shippo API token", Severity: finding.High,
		Description: "A Shippo live or test API token (`shippo_live_`/`shippo_test_` and 40 hex digits): the live one buys shipping labels",
		Peers:       []string{"shippo-api-token"}},
	Keywords:   []string{"shippo_live_", "shippo_test_"},
	Regex:      re(`shippo_(?:live|test)_[a-fA-F0-9]{40}`),
	Boundary:   tokenChars,
	MinEntropy: 3.0,
}

var sonarToken = &Rule{
	Rule: finding.Rule{ID: "DV7162", Title: "SonarQube token", Severity: finding.Medium,
		Description: "A SonarQube or SonarCloud user, project or global analysis token (`squ_`, `sqp_`, `sqa_` and 40 hex digits): it reads the projects' code and findings",
		Peers:       []string{"sonar-api-token"}},
	Keywords:   []string{"squ_", "sqp_", "sqa_"},
	Regex:      re(`sq[upa]_[a-f0-9]{40}`),
	Boundary:   tokenChars,
	MinEntropy: 3.0,
}

var sourcegraphToken = &Rule{
	Rule: finding.Rule{ID: "DV7163", Title: "Sourcegraph access token", Severity: finding.High,
		Description: "A Sourcegraph access token (`sgp_`, an instance identifier or `local`, and 40 hex digits): it searches the instance's code as the user",
		Peers:       []string{"sourcegraph-access-token"}},
	Keywords:   []string{"sgp_"},
	Regex:      re(`sgp_(?:[a-fA-F0-9]{16}_|local_)?[a-fA-F0-9]{40}`),
	Boundary:   tokenChars,
	MinEntropy: 3.0,
}

var typeformToken = &Rule{
	Rule: finding.Rule{ID: "DV7164", Title: "Typeform personal access token", Severity: finding.Medium,
		Description: "A Typeform personal access token (`tfp_` and 40 to 64 characters): it reads the account's forms and their responses",
		Peers:       []string{"typeform-api-token"}},
	Keywords:   []string{"tfp_"},
	Regex:      re(`tfp_[A-Za-z0-9_.=-]{40,64}`),
	Boundary:   tokenChars,
	MinEntropy: 3.5,
}
