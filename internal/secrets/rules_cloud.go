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
		Description: "An Azure Storage (or Cosmos DB) account key after `AccountKey=` in a connection string or in an `account_key` setting: 88 base64 characters (64 bytes), or 44 (32 bytes) as some services and emulators issue them. It grants full control of the account's data; a value of another length there is still reported, as a literal credential",
		Peers:       []string{"azure-storage-account-key"}},
	Keywords: []string{"accountkey", "account_key", "storage_key", "storagekey"},
	Regex:    re(`(?i:accountkey|account_key|storage_?key|azure_storage_key)["']?[ \t]{0,3}[=:][ \t]{0,3}["']?(?P<secret>[A-Za-z0-9+/]{86}==|[A-Za-z0-9+/]{43}=)`),
	Valid:    func(s string) bool { return decodesTo(64)(s) || decodesTo(32)(s) },
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

// Microsoft's identifiable keys: 84 base64 characters with the signature
// JQQJ99 at a fixed place and four letters naming the service further
// on (AZCR for Container Registry, ACOG for Cognitive Services / AI
// services, AZSe for Search…).
var azureIdentifiableKey = &Rule{
	Rule: finding.Rule{ID: "DV7125", Title: "Azure identifiable key", Severity: finding.Critical,
		Description: "An Azure key in Microsoft's identifiable format (84 characters with the `JQQJ99` signature and a service tag such as `AZCR` for Container Registry or `ACOG` for AI services): it authenticates to the service as its owner",
		Peers:       []string{"azure-container-registry-credential", "azure-ai-services-key"}},
	Keywords:   []string{"JQQJ99"},
	Regex:      re(`[A-Za-z0-9+/]{52}JQQJ99[A-Za-z0-9+/]{18}[A-Z][A-Za-z]{3}[A-Za-z0-9+/]{4}`),
	Boundary:   base64Chars,
	MinEntropy: 4.0,
	Near:       true,
	Before:     60,
	After:      40,
}

var azureAppConfigConnection = &Rule{
	Rule: finding.Rule{ID: "DV7126", Title: "Azure App Configuration connection string", Severity: finding.Critical,
		Description: "An Azure App Configuration connection string (`Endpoint=https://….azconfig.io;Id=…;Secret=…`): the secret reads, and with a read-write key changes, every setting of the store, which often holds other credentials",
		Peers:       []string{"azure-app-config-connection-string"}},
	Keywords: []string{".azconfig.io"},
	Regex:    re(`(?i:endpoint)\s*=\s*https://[A-Za-z0-9-]+\.azconfig\.io/?\s*;\s*(?i:id)\s*=\s*[^;\s"']+\s*;\s*(?i:secret)\s*=\s*(?P<secret>[A-Za-z0-9+/=~]{32,88})`),
	Valid:    literalValue,
	Boundary: base64Chars,
	Near:     true,
	Before:   64,
	After:    200,
}

// Alibaba Cloud.

var alibabaAccessKeyID = &Rule{
	Rule: finding.Rule{ID: "DV7120", Title: "Alibaba Cloud AccessKey ID", Severity: finding.High,
		Description: "An Alibaba Cloud (Aliyun) AccessKey ID (`LTAI` and 12 to 20 letters and digits). With its AccessKey secret it signs any API call the RAM user may make",
		Peers:       []string{"alibaba-access-key-id"}},
	Keywords:   []string{"LTAI"},
	Regex:      re(`LTAI[A-Za-z0-9]{12,20}`),
	Boundary:   alnumChars,
	MinEntropy: 3.2,
	Valid:      func(s string) bool { return charClasses(s[4:]) >= 2 },
}

var alibabaSecretKey = &Rule{
	Rule: finding.Rule{ID: "DV7121", Title: "Alibaba Cloud AccessKey secret", Severity: finding.Critical,
		Description: "An Alibaba Cloud AccessKey secret (30 letters and digits) assigned to a name that mentions Alibaba, Aliyun or an access key secret, as in `ALIBABA_CLOUD_ACCESS_KEY_SECRET` and Aliyun CLI configuration",
		Peers:       []string{"alibaba-secret-key"}},
	Keywords:  []string{"alibaba", "aliyun", "alicloud", "accesskeysecret", "access_key_secret"},
	Precheck:  assignment,
	Regex:     assign(`alibaba|aliyun|alicloud|access[_.-]?key[_.-]?secret`, `[A-Za-z0-9]{30}`),
	ValidName: func(n string) bool { return SensitiveName(n) || nameWord("alibaba", "aliyun", "alicloud")(n) },
	Valid:     randomToken(3.5),
	Boundary:  alnumChars,
}

var bedrockKey = &Rule{
	Rule: finding.Rule{ID: "DV7136", Title: "Amazon Bedrock API key", Severity: finding.High,
		Description: "An Amazon Bedrock API key: a long-term key (`ABSK` and the base64 of `BedrockAPIKey-…`) or a short-term one (`bedrock-api-key-` and a presigned token): it runs models billed to the account",
		Peers:       []string{"aws-amazon-bedrock-api-key-long-lived", "aws-amazon-bedrock-api-key-short-lived"}},
	Keywords:   []string{"ABSKQmVkcm9ja0FQSUtleS", "bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t"},
	Regex:      re(`ABSKQmVkcm9ja0FQSUtleS[A-Za-z0-9+/]{87,247}={0,2}|bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t[A-Za-z0-9+/=%&?._-]{20,}`),
	After:      2048,
	Boundary:   base64Chars,
	MinEntropy: 3.5,
}

var cloudflareOriginCA = &Rule{
	Rule: finding.Rule{ID: "DV7137", Title: "Cloudflare Origin CA key", Severity: finding.High,
		Description: "A Cloudflare Origin CA key (`v1.0-`, 24 and 146 hex digits): it issues and revokes origin certificates for the account's zones",
		Peers:       []string{"cloudflare-origin-ca-key"}},
	Keywords:   []string{"v1.0-"},
	Regex:      re(`v1\.0-[a-f0-9]{24}-[a-f0-9]{146}`),
	Boundary:   tokenChars,
	MinEntropy: 3.0,
}

var yandexCredential = &Rule{
	Rule: finding.Rule{ID: "DV7165", Title: "Yandex Cloud credential", Severity: finding.High,
		Description: "A Yandex Cloud IAM token (`t1.`, a base64url part and an 86-character signature), API key (`AQVN` and 35–38 characters) or static access key ID (`YC` and 38 characters, assigned to a Yandex name)",
		Peers:       []string{"yandex-access-token", "yandex-api-key", "yandex-aws-access-token"}},
	Keywords:   []string{"t1.", "AQVN", "yandex"},
	Regex:      re(`t1\.[A-Za-z0-9_-]+={0,2}\.[A-Za-z0-9_-]{86}={0,2}|AQVN[A-Za-z0-9_-]{35,38}|` + assignPattern(`yandex`, `YC[A-Za-z0-9_-]{38}`)),
	ValidName:  nameWord("yandex"),
	Boundary:   tokenChars,
	MinEntropy: 3.5,
}
