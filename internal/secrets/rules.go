package secrets

import (
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/dockvet/dockvet/internal/finding"
)

// rules are the built-in secret formats, sorted by ID. Their regular
// expressions, keywords and validators are documented rule by rule in the
// rules_*.go files; docs/rules.md is generated from them.
var rules = []*Rule{
	keyPKCS8,                    // DV7001
	awsAccessKeyID,              // DV7002
	githubClassicToken,          // DV7003
	gitlabPAT,                   // DV7004
	slackBotToken,               // DV7005
	stripeSecretKey,             // DV7006
	googleAPIKey,                // DV7007
	npmToken,                    // DV7008
	dockerHubPAT,                // DV7009
	passwordInURL,               // DV7010
	jsonWebToken,                // DV7011
	slackWebhook,                // DV7012
	keyRSA,                      // DV7013
	keyEC,                       // DV7014
	keyDSA,                      // DV7015
	keyOpenSSH,                  // DV7016
	keyEncryptedPKCS8,           // DV7017
	keyPGP,                      // DV7018
	keyPuTTY,                    // DV7019
	keySSH2,                     // DV7020
	ageSecretKey,                // DV7021
	keyOtherPEM,                 // DV7022
	certificate,                 // DV7023
	awsSecretKey,                // DV7024
	awsSecretKeyNearID,          // DV7025
	awsSessionToken,             // DV7026
	amazonMWSToken,              // DV7027
	gcpServiceAccountKey,        // DV7028
	googleOAuthSecret,           // DV7029
	googleOAuthAccessToken,      // DV7030
	googleOAuthRefreshToken,     // DV7031
	azureStorageKey,             // DV7032
	azureADClientSecret,         // DV7033
	azureSASToken,               // DV7034
	azureSharedAccessKey,        // DV7035
	azureDevOpsPAT,              // DV7036
	azurePublishProfilePassword, // DV7037
	githubOAuthToken,            // DV7038
	githubUserToServerToken,     // DV7039
	githubInstallationToken,     // DV7040
	githubRefreshToken,          // DV7041
	githubFineGrainedPAT,        // DV7042
	gitlabDeployToken,           // DV7043
	gitlabRunnerToken,           // DV7044
	gitlabTriggerToken,          // DV7045
	gitlabJobToken,              // DV7046
	gitlabServiceToken,          // DV7047
	bitbucketAppPassword,        // DV7048
	atlassianAPIToken,           // DV7049
	jiraLegacyToken,             // DV7050
	pypiToken,                   // DV7051
	rubygemsKey,                 // DV7052
	nugetKey,                    // DV7053
	npmrcToken,                  // DV7054
	npmrcPassword,               // DV7055
	pypircPassword,              // DV7056
	dockerConfigAuth,            // DV7057
	dockerConfigIdentityToken,   // DV7058
	dockerHubOrgToken,           // DV7059
	jfrogToken,                  // DV7060
	mavenSettingsPassword,       // DV7061
	composerAuthPassword,        // DV7062
	slackUserToken,              // DV7063
	slackAppToken,               // DV7064
	slackConfigToken,            // DV7065
	slackLegacyToken,            // DV7066
	discordBotToken,             // DV7067
	discordWebhook,              // DV7068
	telegramBotToken,            // DV7069
	teamsWebhook,                // DV7070
	stripeRestrictedKey,         // DV7071
	stripeWebhookSecret,         // DV7072
	squareAccessToken,           // DV7073
	squareOAuthSecret,           // DV7074
	braintreeToken,              // DV7075
	paypalClientSecret,          // DV7076
	shopifyAccessToken,          // DV7077
	shopifySharedSecret,         // DV7078
	twilioSecret,                // DV7079
	sendgridKey,                 // DV7080
	mailgunKey,                  // DV7081
	mailchimpKey,                // DV7082
	openaiKey,                   // DV7083
	anthropicKey,                // DV7084
	huggingFaceToken,            // DV7085
	vaultToken,                  // DV7086
	vaultBatchToken,             // DV7087
	terraformCloudToken,         // DV7088
	digitalOceanToken,           // DV7089
	herokuKey,                   // DV7090
	oktaToken,                   // DV7091
	grafanaToken,                // DV7092
	databricksToken,             // DV7093
	sentryToken,                 // DV7094
	dopplerToken,                // DV7095
	planetScaleCredential,       // DV7096
	pulumiToken,                 // DV7097
	postmanKey,                  // DV7098
	genericRule,                 // DV7099
	newRelicKey,                 // DV7100
	postgresURL,                 // DV7101
	mysqlURL,                    // DV7102
	mongodbURL,                  // DV7103
	redisURL,                    // DV7104
	amqpURL,                     // DV7105
	jdbcURL,                     // DV7106
	connectionString,            // DV7107
	htpasswdHash,                // DV7108
	shadowHash,                  // DV7109
	kubeconfigClientKey,         // DV7110
	yamlBearerToken,             // DV7111
	netrcPassword,               // DV7112
	gitCredentials,              // DV7113
	basicAuthHeader,             // DV7114
	bearerAuthHeader,            // DV7115
	laravelAppKey,               // DV7116
	railsSecretKeyBase,          // DV7117
	swarmJoinToken,              // DV7118
	swarmUnlockKey,              // DV7119
	alibabaAccessKeyID,          // DV7120
	alibabaSecretKey,            // DV7121
	kubernetesPullSecret,        // DV7122
	privatePackagistToken,       // DV7123
	mavenMasterPassword,         // DV7124
	azureIdentifiableKey,        // DV7125
	azureAppConfigConnection,    // DV7126
	openaiRealtimeSecret,        // DV7127
	frameworkDefaultSecret,      // DV7128
	stripeTestKey,               // DV7129
	jwtBase64,                   // DV7130
	nugetConfigPassword,         // DV7131
	onePasswordCredential,       // DV7132
	adobeClientSecret,           // DV7133
	airtableToken,               // DV7134
	authressKey,                 // DV7135
	bedrockKey,                  // DV7136
	cloudflareOriginCA,          // DV7137
	clojarsToken,                // DV7138
	definedNetworkingToken,      // DV7139
	duffelToken,                 // DV7140
	dynatraceToken,              // DV7141
	easypostKey,                 // DV7142
	facebookToken,               // DV7143
	flutterwaveKey,              // DV7144
	flyioToken,                  // DV7145
	frameioToken,                // DV7146
	gitlabSessionCookie,         // DV7147
	harnessKey,                  // DV7148
	infracostToken,              // DV7149
	intra42Secret,               // DV7150
	linearKey,                   // DV7151
	notionToken,                 // DV7152
	octopusKey,                  // DV7153
	openshiftToken,              // DV7154
	perplexityKey,               // DV7155
	prefectToken,                // DV7156
	readmeKey,                   // DV7157
	scalingoToken,               // DV7158
	sendinblueKey,               // DV7159
	settlemintToken,             // DV7160
	shippoToken,                 // DV7161
	sonarToken,                  // DV7162
	sourcegraphToken,            // DV7163
	typeformToken,               // DV7164
	yandexCredential,            // DV7165
}

// Rules returns the built-in secret formats, sorted by ID.
func Rules() []*Rule { return slices.Clone(rules) }

// Characters that may not touch a token on either side: a token inside a
// longer word is not that token.
const (
	tokenChars  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
	base64Chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	alnumChars  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

// Expr is a rule's regular expression, compiled the first time a scan
// needs it. Most runs meet the keywords of a few rules only, and compiling
// all of them when the program starts took 15 ms and 3 MB before any work,
// for every command. TestRules compiles every one.
type Expr struct {
	src  string
	once sync.Once
	re   *regexp.Regexp
}

// Regexp is the compiled expression.
func (x *Expr) Regexp() *regexp.Regexp {
	x.once.Do(func() { x.re = regexp.MustCompile(x.src) })
	return x.re
}

// String is the expression's source.
func (x *Expr) String() string { return x.src }

// MatchString reports whether s holds a match.
func (x *Expr) MatchString(s string) bool { return x.Regexp().MatchString(s) }

// re is a rule's regular expression.
func re(s string) *Expr { return &Expr{src: s} }

// assign matches `NAME <op> VALUE` from a keyword in the name: the name
// starts with ctx (matched case-insensitively; what precedes the keyword
// in the name is added by the engine) assigned with =, :=, :, =>, ?= or a comma (env files,
// YAML, JSON, TOML, shell, code), the value optionally quoted. The value
// pattern val is case-sensitive and is the secret.
func assign(ctx, val string) *Expr { return re(assignPattern(ctx, val)) }

// assignPattern is assign's expression, to combine with alternatives.
func assignPattern(ctx, val string) string {
	return `(?:(?i)(?P<name>(?:` + ctx + `)[\w.-]*)(?:["']|\\")?[ \t]*(?:=|:=|:|=>|\?=|,)[ \t]*(?:["'\x60]|\\")?(?P<secret>(?-i:` + val + `)))`
}

// Surfaces on which a secret can be found.
var secretSurfaces = []finding.Surface{finding.SurfaceDockerfile, finding.SurfaceImage, finding.SurfaceCompose, finding.SurfaceContainer}

// Meta is the catalog entry of a secret rule.
func (r *Rule) Meta() finding.Rule {
	desc := r.Description
	if desc != "" && !strings.HasSuffix(desc, ".") {
		desc += "."
	}
	if desc != "" {
		desc += " "
	}
	desc += "Found in a place that ends up in an image, a container's configuration, or a repository, anyone who can pull the image " +
		"or read the file can use it; deleting it in a later layer does not remove it."
	rem := "Revoke and rotate the credential, remove it from the source, and pass it at build time with " +
		"`RUN --mount=type=secret` or at run time with a secret store (Docker/Compose secrets, a vault)."
	if r.Severity == finding.Info {
		desc = r.Description + ". Public by design; reported for inventory only, when informational matches are asked for."
		rem = "Nothing to do unless the matching private key is stored next to it."
	}
	return finding.Rule{
		ID: r.ID, Title: r.Title, Practice: finding.PracticeSecrets, Severity: r.Severity,
		Surfaces:    slices.Clone(secretSurfaces),
		CIS:         "4.10",
		Description: desc,
		Remediation: rem,
		References:  []string{"https://docs.docker.com/build/building/secrets/"},
		Peers:       slices.Clone(r.Peers),
	}
}

// Catalog lists the metadata of every secret rule.
func Catalog() []finding.Rule {
	out := make([]finding.Rule, 0, len(rules))
	for _, r := range rules {
		out = append(out, r.Meta())
	}
	return out
}
