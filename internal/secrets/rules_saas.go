package secrets

import (
	"strings"

	"github.com/dockvet/dockvet/internal/finding"
)

// Chat and notifications: Slack, Discord, Telegram, Microsoft Teams.

var slackBotToken = &Rule{
	Rule: finding.Rule{ID: "DV7005", Title: "Slack bot token", Severity: finding.High,
		Description: "A Slack bot token (`xoxb-`, the workspace and bot IDs, and a random part): it reads and posts in every channel the bot is in",
		Peers:       []string{"slack-bot-token", "slack-access-token"}},
	Keywords:   []string{"xoxb-"},
	Regex:      re(`xoxb-[0-9]{8,14}-(?:[0-9]{8,14}-)?[A-Za-z0-9]{18,34}`),
	Boundary:   tokenChars,
	MinEntropy: 3.5,
}

var slackUserToken = &Rule{
	Rule: finding.Rule{ID: "DV7063", Title: "Slack user token", Severity: finding.Critical,
		Description: "A Slack user token (`xoxp-` and three numeric IDs and a random part): it acts as the user, with access to their messages and files",
		Peers:       []string{"slack-user-token", "slack-access-token"}},
	Keywords:   []string{"xoxp-"},
	Regex:      re(`xoxp-[0-9]{8,14}-[0-9]{8,14}-[0-9]{8,14}-[A-Za-z0-9]{28,34}`),
	Boundary:   tokenChars,
	MinEntropy: 3.5,
}

var slackAppToken = &Rule{
	Rule: finding.Rule{ID: "DV7064", Title: "Slack app-level token", Severity: finding.High,
		Description: "A Slack app-level token (`xapp-`), used for Socket Mode connections and app-wide APIs",
		Peers:       []string{"slack-app-token"}},
	Keywords:   []string{"xapp-"},
	Regex:      re(`xapp-[0-9]-[A-Z0-9]{8,14}-[0-9]{8,16}-[a-z0-9]{32,80}`),
	Boundary:   tokenChars,
	MinEntropy: 3.5,
}

var slackConfigToken = &Rule{
	Rule: finding.Rule{ID: "DV7065", Title: "Slack configuration token", Severity: finding.High,
		Description: "A Slack app configuration access token (`xoxe.xoxp-`/`xoxe.xoxb-`) or its refresh token (`xoxe-`), which manage a workspace's apps",
		Peers:       []string{"slack-config-access-token", "slack-config-refresh-token"}},
	Keywords:   []string{"xoxe.xox", "xoxe-"},
	Regex:      re(`xoxe\.xox[bp]-[0-9]-[A-Za-z0-9]{163,166}|xoxe-[0-9]-[A-Za-z0-9]{146}`),
	Boundary:   tokenChars,
	MinEntropy: 4.0,
}

var slackLegacyToken = &Rule{
	Rule: finding.Rule{ID: "DV7066", Title: "Slack legacy token", Severity: finding.High,
		Description: "A legacy Slack workspace, refresh or test token (`xoxa-`, `xoxr-`, `xoxo-`, `xoxs-`)",
		Peers:       []string{"slack-legacy-bot-token", "slack-legacy-token", "slack-legacy-workspace-token"}},
	Keywords:   []string{"xoxa-", "xoxr-", "xoxo-", "xoxs-"},
	Regex:      re(`xox[ar]-(?:[0-9]-)?[0-9A-Za-z]{8,48}|xox[os]-[0-9]+-[0-9]+-[0-9]+-[0-9a-fA-F]{8,}`),
	Boundary:   tokenChars,
	MinEntropy: 3.3,
}

var slackWebhook = &Rule{
	Rule: finding.Rule{ID: "DV7012", Title: "Slack webhook URL", Severity: finding.High,
		Description: "A Slack incoming webhook or workflow trigger URL (`hooks.slack.com/services/T…/B…/…`): anyone with it posts into the channel",
		Peers:       []string{"slack-webhook-url", "slack-web-hook"}},
	Keywords:   []string{"https://hooks.slack.com/"},
	Regex:      re(`https://hooks\.slack\.com/(?:services/T[A-Z0-9]{6,}/B[A-Z0-9]{6,}/[A-Za-z0-9]{20,}|workflows/T[A-Z0-9]{6,}/A[A-Z0-9]{6,}/[0-9]{6,}/[A-Za-z0-9]{20,}|triggers/T[A-Z0-9]{6,}/[0-9]{6,}/[A-Za-z0-9]{20,})`),
	Boundary:   tokenChars,
	MinEntropy: 3.5,
}

var discordBotToken = &Rule{
	Rule: finding.Rule{ID: "DV7067", Title: "Discord bot token", Severity: finding.High,
		Description: "A Discord bot token near the word Discord: the bot's user ID in base64, a timestamp and an HMAC, separated by dots. The first part must decode to a numeric ID"},
	Keywords: []string{"discord"},
	Regex:    re(`(?P<secret>[MNO][A-Za-z0-9_-]{23,27}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,38})`),
	Valid: func(s string) bool {
		id, ok := decodeBase64(s[:strings.IndexByte(s, '.')])
		if !ok || len(id) < 17 {
			return false
		}
		for _, c := range id {
			if c < '0' || c > '9' {
				return false
			}
		}
		return true
	},
	Boundary:  tokenChars,
	Near:      true,
	MultiLine: true,
	Before:    200,
	After:     200,
}

var discordWebhook = &Rule{
	Rule: finding.Rule{ID: "DV7068", Title: "Discord webhook URL", Severity: finding.Medium,
		Description: "A Discord webhook URL (`discord.com/api/webhooks/ID/TOKEN`): anyone with it posts into the channel"},
	Keywords:   []string{"/api/webhooks/"},
	Regex:      re(`https://(?:(?:ptb|canary)\.)?discord(?:app)?\.com/api/webhooks/[0-9]{17,20}/[A-Za-z0-9_-]{60,68}`),
	Boundary:   tokenChars,
	MinEntropy: 4.0,
	Near:       true,
	Before:     64,
	After:      128,
}

var telegramBotToken = &Rule{
	Rule: finding.Rule{ID: "DV7069", Title: "Telegram bot token", Severity: finding.High,
		Description: "A Telegram bot token (the bot's numeric ID, `:AA`, and 33 characters): it controls the bot and reads its chats",
		Peers:       []string{"telegram-bot-api-token"}},
	Keywords:   []string{":AA"},
	Regex:      re(`[0-9]{8,10}:AA[0-9A-Za-z_-]{33}`),
	Boundary:   tokenChars,
	MinEntropy: 3.5,
	Near:       true,
	Before:     12,
	After:      40,
}

var teamsWebhook = &Rule{
	Rule: finding.Rule{ID: "DV7070", Title: "Microsoft Teams webhook URL", Severity: finding.Medium,
		Description: "A Microsoft Teams incoming webhook URL (`….webhook.office.com/webhookb2/…/IncomingWebhook/…`): anyone with it posts into the channel",
		Peers:       []string{"microsoft-teams-webhook"}},
	Keywords: []string{"webhook.office.com"},
	Regex:    re(`https://[a-z0-9-]+\.webhook\.office\.com/webhookb2/[0-9a-f-]{36}@[0-9a-f-]{36}/IncomingWebhook/[0-9a-f]{32}/[0-9a-f-]{36}(?:/[A-Za-z0-9_-]+)?`),
	Boundary: tokenChars,
	Near:     true,
	Before:   72,
	After:    256,
}

// Payments and commerce.

var stripeSecretKey = &Rule{
	Rule: finding.Rule{ID: "DV7006", Title: "Stripe secret key", Severity: finding.Critical,
		Description: "A live-mode Stripe secret key (`sk_live_`): it charges cards, issues refunds and reads customer data. Test-mode keys (`sk_test_`) are not reported",
		Peers:       []string{"stripe-access-token", "stripe-secret-token"}},
	Keywords:   []string{"sk_live_"},
	Regex:      re(`sk_live_[0-9a-zA-Z]{24,}`),
	Boundary:   tokenChars,
	MinEntropy: 3.5,
}

var stripeRestrictedKey = &Rule{
	Rule: finding.Rule{ID: "DV7071", Title: "Stripe restricted key", Severity: finding.High,
		Description: "A live-mode Stripe restricted key (`rk_live_`), with the permissions it was created with",
		Peers:       []string{"stripe-access-token"}},
	Keywords:   []string{"rk_live_"},
	Regex:      re(`rk_live_[0-9a-zA-Z]{24,}`),
	Boundary:   tokenChars,
	MinEntropy: 3.5,
}

var stripeWebhookSecret = &Rule{
	Rule: finding.Rule{ID: "DV7072", Title: "Stripe webhook signing secret", Severity: finding.Medium,
		Description: "A Stripe webhook signing secret (`whsec_`): with it, anyone can forge events the application will trust"},
	Keywords:   []string{"whsec_"},
	Regex:      re(`whsec_[A-Za-z0-9+/=]{32,}`),
	Boundary:   tokenChars,
	MinEntropy: 4.0,
}

var squareAccessToken = &Rule{
	Rule: finding.Rule{ID: "DV7073", Title: "Square access token", Severity: finding.Critical,
		Description: "A Square access token (`EAAA` and 60 characters, or the older `sq0atp-`): it takes payments and reads the seller's data",
		Peers:       []string{"square-access-token"}},
	Keywords:   []string{"EAAA", "sq0atp-"},
	Regex:      re(`EAAA[A-Za-z0-9_-]{60}|sq0atp-[A-Za-z0-9_-]{22}`),
	Boundary:   "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-+/",
	MinEntropy: 3.8,
}

var squareOAuthSecret = &Rule{
	Rule: finding.Rule{ID: "DV7074", Title: "Square OAuth secret", Severity: finding.High,
		Description: "A Square OAuth application secret (`sq0csp-` and 43 characters)"},
	Keywords:   []string{"sq0csp-"},
	Regex:      re(`sq0csp-[A-Za-z0-9_-]{43}`),
	Boundary:   tokenChars,
	MinEntropy: 3.8,
}

var braintreeToken = &Rule{
	Rule: finding.Rule{ID: "DV7075", Title: "Braintree (PayPal) access token", Severity: finding.Critical,
		Description: "A production Braintree access token (`access_token$production$merchant$secret`), PayPal's payment gateway credential"},
	Keywords: []string{"access_token$production$"},
	Regex:    re(`access_token\$production\$[0-9a-z]{16}\$[0-9a-f]{32}`),
	Boundary: tokenChars,
}

var paypalClientSecret = &Rule{
	Rule: finding.Rule{ID: "DV7076", Title: "PayPal client secret", Severity: finding.Critical,
		Description: "A PayPal REST API client secret (80 characters, starting with `E`) assigned to a name that mentions PayPal and a secret"},
	Keywords:   []string{"paypal"},
	Precheck:   assignment,
	Regex:      assign(`paypal[\w.-]{0,20}secret|paypal[\w.-]{0,20}client[\w.-]{0,5}key`, `E[A-Za-z0-9_-]{79}`),
	Boundary:   tokenChars,
	MinEntropy: 4.0,
}

var shopifyAccessToken = &Rule{
	Rule: finding.Rule{ID: "DV7077", Title: "Shopify access token", Severity: finding.Critical,
		Description: "A Shopify Admin API access token (`shpat_`, `shpca_` custom app or `shppa_` private app, and 32 hex digits): it manages the store's orders, products and customers",
		Peers:       []string{"shopify-access-token", "shopify-custom-access-token", "shopify-private-app-access-token", "shopify-token"}},
	Keywords:   []string{"shpat_", "shpca_", "shppa_"},
	Regex:      re(`shp(?:at|ca|pa)_[a-fA-F0-9]{32}`),
	Boundary:   tokenChars,
	MinEntropy: 3.0,
}

var shopifySharedSecret = &Rule{
	Rule: finding.Rule{ID: "DV7078", Title: "Shopify shared secret", Severity: finding.High,
		Description: "A Shopify app shared secret (`shpss_` and 32 hex digits), which signs webhooks and OAuth exchanges",
		Peers:       []string{"shopify-shared-secret"}},
	Keywords:   []string{"shpss_"},
	Regex:      re(`shpss_[a-fA-F0-9]{32}`),
	Boundary:   tokenChars,
	MinEntropy: 3.0,
}

var stripeTestKey = &Rule{
	Rule: finding.Rule{ID: "DV7129", Title: "Stripe test-mode secret key", Severity: finding.Low,
		Description: "A test-mode Stripe secret or restricted key (`sk_test_`, `rk_test_`): it moves no money, but reads and writes the account's test data and settings. Stripe's documented example keys are not reported",
		Peers:       []string{"stripe-access-token", "stripe-secret-token"}},
	Keywords:   []string{"sk_test_", "rk_test_"},
	Regex:      re(`[sr]k_test_[0-9a-zA-Z]{24,}`),
	Boundary:   tokenChars,
	MinEntropy: 3.5,
}
