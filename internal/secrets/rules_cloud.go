package secrets

import (
	"net/url"
	"strings"

	"github.com/dockvet/dockvet/internal/finding"
)

// awsSecretShape is a 40-character AWS secret access key: base64 of 30
// random bytes, so mixed case and digits, and never all hex.
func awsSecretShape(s string) bool {
	return len(s) == 40 && charClasses(s) >= 3 && !isHex(s) && Entropy(s) >= 4.0
}

// AWS.

var awsAccessKeyID = &Rule{
	Rule: finding.Rule{ID: "DV7002", Title: "AWS access key ID", Severity: finding.High,
		Description: "An AWS access key ID (`AKIA…` long-term, `ASIA…` temporary, `ABIA`/`ACCA` service keys): 20 characters, upper-case base32 after the prefix. With its secret it signs any API call the key's IAM user may make",
		Peers:       []string{"aws-access-token", "aws-access-key-id"}},
	Keywords:   []string{"AKIA", "ASIA", "ABIA", "ACCA", "A3T"},
	Regex:      re(`(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}`),
	Boundary:   base64Chars,
	MinEntropy: 3.0,
}

var awsSecretKey = &Rule{
	Rule: finding.Rule{ID: "DV7024", Title: "AWS secret access key", Severity: finding.Critical,
		Description: "An AWS secret access key (40 base64 characters) assigned to a name such as `aws_secret_access_key`, `AWS_SECRET_ACCESS_KEY` or `SecretAccessKey`, as in ~/.aws/credentials, .env files and SDK configuration",
		Peers:       []string{"aws-secret-access-key"}},
	Keywords: []string{"aws_secret", "secret_access_key", "secretaccesskey", "aws-secret", "secret-access-key"},
	Precheck: assignment,
	Regex:    assign(`aws[\w.-]{0,20}secret|secret[_.-]?access[_.-]?key`, `[A-Za-z0-9/+]{40}`),
	Valid:    awsSecretShape,
	Boundary: base64Chars,
}

var awsSecretKeyNearID = &Rule{
	Rule: finding.Rule{ID: "DV7025", Title: "AWS secret access key next to its key ID", Severity: finding.Critical,
		Description: "A 40-character string shaped like an AWS secret access key within a few lines of an AWS access key ID: the pair is a working credential, whatever the names around it"},
	Keywords:  []string{"AKIA", "ASIA"},
	Regex:     re(`[A-Za-z0-9/+]{40}`),
	Valid:     all(awsSecretShape, func(s string) bool { return !strings.HasPrefix(s, "AKIA") && !strings.HasPrefix(s, "ASIA") }),
	Boundary:  base64Chars,
	Near:      true,
	MultiLine: true,
	Before:    400,
	After:     400,
	Fallback:  1,
}

var awsSessionToken = &Rule{
	Rule: finding.Rule{ID: "DV7026", Title: "AWS session token", Severity: finding.High,
		Description: "A temporary AWS session token (STS): base64 recognisable by its encoded `er/aws` or `origin_ec` start, or a long value assigned to `aws_session_token`, `AWS_SECURITY_TOKEN` or `X-Amz-Security-Token`. With its key pair it acts as the role it came from until it expires"},
	Keywords: []string{"zxivyxdz", "b3jpz2lux2vj", "session_token", "security_token", "security-token", "sessiontoken"},
	Regex: re(`(?P<secret>[A-Za-z0-9+/]{4,8}(?:ZXIvYXdz|b3JpZ2luX2Vj)[A-Za-z0-9+/]{100,}={0,2})|` +
		`(?i:(?:aws[_.-]?session[_.-]?token|aws[_.-]?security[_.-]?token|x-amz-security-token|sessiontoken)["']?[ \t]{0,3}(?:=|:)[ \t]{0,3}["']?)(?P<secret>[A-Za-z0-9+/]{100,}={0,2})`),
	Boundary:   base64Chars,
	MinEntropy: 4.5,
	Near:       true,
	Before:     64,
	After:      4096,
}

var amazonMWSToken = &Rule{
	Rule: finding.Rule{ID: "DV7027", Title: "Amazon MWS auth token", Severity: finding.High,
		Description: "An Amazon Marketplace Web Service auth token (`amzn.mws.` followed by a UUID), which acts for a seller account"},
	Keywords: []string{"amzn.mws."},
	Regex:    re(`amzn\.mws\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`),
	Boundary: tokenChars,
}

// Google Cloud.

var googleAPIKey = &Rule{
	Rule: finding.Rule{ID: "DV7007", Title: "Google API key", Severity: finding.High,
		Description: "A Google API key (`AIza` and 35 characters). Keys for Maps or Firebase are often meant for browsers, but an unrestricted key bills and reads whatever APIs its project enabled",
		Peers:       []string{"gcp-api-key"}},
	Keywords:   []string{"AIza"},
	Regex:      re(`AIza[0-9A-Za-z_-]{35}`),
	Boundary:   tokenChars,
	MinEntropy: 3.5,
}

var gcpServiceAccountKey = &Rule{
	Rule: finding.Rule{ID: "DV7028", Title: "GCP service account key", Severity: finding.Critical,
		Description: "A Google Cloud service-account key file (JSON with `\"type\": \"service_account\"` and a `private_key`): it authenticates as the service account, with all its IAM roles, until the key is deleted",
		Peers:       []string{"gcp-service-account"}},
	Keywords:  []string{"service_account"},
	Regex:     re(`"private_key"\s*:\s*"-----BEGIN PRIVATE KEY-----(?:\\n|\s)*(?P<secret>[^"]+?)(?:\\n|\s)*-----END PRIVATE KEY-----(?:\\n)*"`),
	Valid:     func(b string) bool { return pemBody(b, 32, true) },
	Near:      true,
	MultiLine: true,
	Before:    4096,
	After:     8192,
}

var googleOAuthSecret = &Rule{
	Rule: finding.Rule{ID: "DV7029", Title: "Google OAuth client secret", Severity: finding.High,
		Description: "A Google OAuth 2.0 client secret (`GOCSPX-` and 28 characters), which lets an application obtain tokens as the OAuth client"},
	Keywords:   []string{"GOCSPX-"},
	Regex:      re(`GOCSPX-[0-9A-Za-z_-]{28}`),
	Boundary:   tokenChars,
	MinEntropy: 3.5,
}

var googleOAuthAccessToken = &Rule{
	Rule: finding.Rule{ID: "DV7030", Title: "Google OAuth access token", Severity: finding.Medium,
		Description: "A Google OAuth 2.0 access token (`ya29.`): short-lived, but it acts for the user or service account that obtained it until it expires"},
	Keywords:   []string{"ya29."},
	Regex:      re(`ya29\.[0-9A-Za-z_-]{30,}`),
	After:      480,
	Boundary:   tokenChars,
	MinEntropy: 4.0,
}

var googleOAuthRefreshToken = &Rule{
	Rule: finding.Rule{ID: "DV7031", Title: "Google OAuth refresh token", Severity: finding.High,
		Description: "A Google OAuth 2.0 refresh token (`1//0` and at least 40 characters), which mints new access tokens without the user"},
	Keywords:   []string{"1//0"},
	Regex:      re(`1//0[0-9A-Za-z_-]{40,}`),
	Boundary:   tokenChars,
	MinEntropy: 4.0,
}

// Azure.

var azureStorageKey = &Rule{
	Rule: finding.Rule{ID: "DV7032", Title: "Azure storage account key", Severity: finding.Critical,
		Description: "An Azure Storage (or Cosmos DB) account key: 88 base64 characters (64 bytes) after `AccountKey=` in a connection string or in an `account_key` setting. It grants full control of the account's data",
		Peers:       []string{"azure-storage-account-key"}},
	Keywords: []string{"accountkey", "account_key", "storage_key", "storagekey"},
	Regex:    re(`(?i:accountkey|account_key|storage_?key|azure_storage_key)["']?[ \t]{0,3}[=:][ \t]{0,3}["']?(?P<secret>[A-Za-z0-9+/]{86}==)`),
	Valid:    decodesTo(64),
	Boundary: base64Chars,
}

var azureADClientSecret = &Rule{
	Rule: finding.Rule{ID: "DV7033", Title: "Azure AD client secret", Severity: finding.Critical,
		Description: "A Microsoft Entra ID (Azure AD) application client secret: three characters, a digit, `Q~`, then 31–34 characters. It signs in as the application",
		Peers:       []string{"azure-ad-client-secret", "azure-entra-client-secret"}},
	Keywords:   []string{"0Q~", "1Q~", "2Q~", "3Q~", "4Q~", "5Q~", "6Q~", "7Q~", "8Q~", "9Q~"},
	Regex:      re(`[A-Za-z0-9_~.]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34}`),
	Boundary:   "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_~.-",
	MinEntropy: 3.5,
	Near:       true,
	Before:     8,
	After:      48,
	Valid:      func(s string) bool { return charClasses(s) >= 3 },
}

var azureSASToken = &Rule{
	Rule: finding.Rule{ID: "DV7034", Title: "Azure SAS token", Severity: finding.High,
		Description: "An Azure shared access signature: a URL query with a service version (`sv=`) and a signature (`sig=`, base64 of an HMAC-SHA256). Anyone with the URL has the access it grants until it expires",
		Peers:       []string{"azure-sas-token"}},
	Keywords: []string{"sig="},
	Regex: re(`\bsv=\d{4}-\d\d-\d\d(?:&[^\s"'<>&]*)*?&sig=(?P<secret>[A-Za-z0-9%+/]{40,}(?:%3[Dd]|=){0,2})|` +
		`[?&]sig=(?P<secret>[A-Za-z0-9%+/]{40,}(?:%3[Dd]|=){0,2})(?:&[^\s"'<>&]*)*?&sv=\d{4}-\d\d-\d\d`),
	Valid: func(s string) bool {
		u, err := url.PathUnescape(s)
		if err != nil {
			return false
		}
		return decodesTo(32)(u)
	},
	Near:   true,
	Before: 512,
	After:  512,
}

var azureSharedAccessKey = &Rule{
	Rule: finding.Rule{ID: "DV7035", Title: "Azure shared access key", Severity: finding.Critical,
		Description: "A Service Bus, Event Hubs, Relay or IoT Hub shared access key (`SharedAccessKey=` and 44 base64 characters) in a connection string: it signs tokens for the namespace with the policy's rights"},
	Keywords: []string{"sharedaccesskey="},
	Regex:    re(`(?i:SharedAccessKey)=(?P<secret>[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=)`),
	Valid:    decodesTo(32),
	Boundary: base64Chars,
}

var azureDevOpsPAT = &Rule{
	Rule: finding.Rule{ID: "DV7036", Title: "Azure DevOps personal access token", Severity: finding.Critical,
		Description: "An Azure DevOps personal access token: 84 characters with the `AZDO` signature, or the older 52 lower-case base32 characters assigned to an Azure DevOps name. It reads and writes repositories, pipelines and feeds",
		Peers:       []string{"azure-devops-pat"}},
	Keywords:   []string{"AZDO", "azure_devops", "azuredevops", "azure-devops", "ado_pat", "ado_token", "vsts", "azdo_"},
	Regex:      re(`(?P<secret>[A-Za-z0-9]{76}AZDO[A-Za-z0-9]{4})|` + assignPattern(`azure[_.-]?devops|azdo|ado[_.-]?(?:pat|token)|vsts`, `[a-z2-7]{52}`)),
	Boundary:   alnumChars,
	MinEntropy: 3.5,
	Near:       true,
	Before:     100,
	After:      100,
}

var azurePublishProfilePassword = &Rule{
	Rule: finding.Rule{ID: "DV7037", Title: "Azure publish profile password", Severity: finding.Critical,
		Description: "The deployment password of an Azure App Service publish profile (`userPWD=\"…\"` in a .PublishSettings file): it deploys code to the app"},
	Keywords:   []string{"userpwd="},
	Regex:      re(`userPWD="(?P<secret>[A-Za-z0-9+/=]{20,})"`),
	MinEntropy: 3.5,
}
