package secrets

import "testing"

func TestAssignment(t *testing.T) {
	for _, tc := range []struct {
		name, value string
		want        bool
	}{
		// Secrets.
		{"DB_PASSWORD", "s3cr3t-Pa55", true},
		{"API_KEY", "f9a8d7c6b5e4a3b2c1d0e9f8a7b6c5d4e3", true},
		{"AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEYzz", false}, // the documented example
		{"AWS_SECRET_ACCESS_KEY", "q8Vh2Lr9TzX4mN7pK1sW6yB3cF5gJ0dA+eR2uI9o", true},
		{"ANYTHING", "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", true},  // format wins over name
		{"ANYTHING", "ghp_0123456789abcdefghijABCDEFGHIJ012345", false}, // but a wrong checksum is no GitHub token
		{"DATABASE_URL", "postgres://app:Sup3rS3cret@db:5432/app", true},
		{"githubToken", "0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d", true},
		{"MYSQL_ROOT_PASSWORD", "hunter2x", true},
		{"SECRET_KEY", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", true}, // hex under a secret's name
		{"GITHUB_TOKEN", "ghp_8Lh12qOq3CpS5Fd7YRin3to2F61aQ7nbgloo", true},                       // wrong checksum: still a literal
		{"VAULT_TOKEN", "hvs.CAESIJ2kX9wz7Lq4Rt8mNb3Vc", true},                                   // an older, shorter Vault token
		// Not secrets.
		{"DB_PASSWORD", "", false},
		{"DB_PASSWORD", "${DB_PASSWORD}", false},
		{"DB_PASSWORD", "$DB_PASSWORD", false},
		{"DB_PASSWORD_FILE", "/run/secrets/db_password", false},
		{"PASSWORD", "/run/secrets/x", false},
		{"API_TOKEN", "changeme", false},
		{"API_TOKEN", "<your-api-token>", false},
		{"API_TOKEN", "xxxxxxxx", false},
		{"API_KEY", "your_api_key_here", false},
		{"SECRET_KEY", "example", false},
		{"TOKEN_TTL", "3600", false},
		{"TOKEN_EXPIRY", "24h", false},
		{"PASSWORD_MIN_LENGTH", "12", false},
		{"GPG_KEY", "0D96DF4D4110E5C43FBFB17F2D347EA6AA65421D", false},
		{"NODE_AUTH_TOKEN_VERSION", "1.2.3", false},
		{"AUTH_ENABLED", "true", false},
		{"PUBLIC_KEY", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHkq user@host", false},
		{"SSH_KEY", "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 user@host", false},
		{"SECRET_URL", "https://vault.internal:8200/v1/secret", false},
		{"DATABASE_URL", "postgres://app@db:5432/app", false},
		{"DATABASE_URL", "postgres://app:${DB_PASS}@db:5432/app", false},
		{"REDIS_PASSWORD", "{{ .Values.redis.password }}", false},
		{"PYTHON_VERSION", "3.12.1", false},
		{"APP_USER", "appuser", false},
		{"KEY", "value", false},
		{"PASSWORD", "12345678", false},
		{"SESSION_SECRET", "a", false},
		{"API_TOKEN", "change_me!", false},
		{"REPO_PASSWORD", "{COQLCE6DU6GtcS5P=}", false},
		{"DB_PASSWORD", "ENC(G6N718UuyPE5bHyWKyuLQSm02auQPUtm)", false},
		{"CSRF_TOKEN", "Mj2qykJO5rELyHgezQ69nzUX0i3OH67V7", false},
		{"FILE_SHA1", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b", false},
		{"MAILCOW_PASS_SCHEME", "BLF-CRYPT", false}, // mailcow's compose file: a hash scheme's name
		{"PASSWORD_REGEX", "^(?=.*[A-Z])(?=.*[0-9]).{12,}$", false},
		{"key", "B97B0AFCAA1A47F044F244A07FCC7D46ACCC4CF8", false}, // a GPG fingerprint in a shell loop
	} {
		m, got := Assignment(tc.name, tc.value)
		if got != tc.want {
			t.Errorf("%s=%q: secret=%v, want %v (rule %v)", tc.name, tc.value, got, tc.want, m.Rule)
		}
		if got && m.Masked() == tc.value {
			t.Errorf("%s: mask shows the whole value", tc.name)
		}
	}
}

func TestSensitiveName(t *testing.T) {
	for name, want := range map[string]bool{
		"PASSWORD": true, "db_passwd": true, "apiKey": true, "API_KEY": true, "SECRET_KEY_BASE": true, "GITHUB_TOKEN": true,
		"AWS_SECRET_ACCESS_KEY": true, "PRIVATE_KEY": true, "KEY": true, "NPM_AUTH_TOKEN": true,
		"PUBLIC_KEY": false, "KEY_FILE": false, "TOKEN_URL": false, "PASSWORD_FILE": false, "PATH": false,
		"HOME": false, "MONKEY": false, "KEYBOARD": false, "GPG_KEY": false, "TOKEN_TTL": false,
	} {
		if got := SensitiveName(name); got != want {
			t.Errorf("SensitiveName(%s) = %v, want %v", name, got, want)
		}
	}
}

func TestWeakLiteral(t *testing.T) {
	for v, want := range map[string]bool{
		"hunter2hunter2": true, "postgres": true, "opensesame": true, "123456": true,
		"": false, "abc": false, "${DB_PASSWORD}": false, "change_me!": false, "<your-token>": false, "xxxx": false,
		"{COQLCE6DU6GtcS5P=}": false, "yes": false, "/run/secrets/db": false, "https://vault.internal/v1": false,
		"1.2.3": false, "ssh-ed25519 AAAAC3Nza user@host": false, "a sentence that explains things": false,
	} {
		if got := WeakLiteral(v); got != want {
			t.Errorf("WeakLiteral(%q) = %v, want %v", v, got, want)
		}
	}
}
