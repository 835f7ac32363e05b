package secrets

import (
	"strings"

	"github.com/dockvet/dockvet/internal/finding"
)

// urlCredential matches the password of a URL whose scheme matches
// scheme: scheme://user:PASSWORD@host (an empty scheme starts at "://").
func urlCredential(scheme string) string {
	return `(?i:` + scheme + `)://[^/\s:@'"<>]*:(?P<secret>[^/\s@'"<>]+)@(?P<host>[^\s/'"<>@]+)`
}

// realHost rejects the hosts documentation uses (RFC 2606 and RFC 6761:
// example.com, *.example, *.test, *.invalid): a password there is an
// illustration.
func realHost(host string) bool {
	h := strings.ToLower(host)
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.Contains(h[i:], "]") {
		h = h[:i]
	}
	for _, d := range []string{"example.com", "example.org", "example.net", ".example", ".test", ".invalid", "bogus.net", "bogus.com"} {
		if h == strings.TrimPrefix(d, ".") || strings.HasSuffix(h, "."+strings.TrimPrefix(d, ".")) {
			return false
		}
	}
	return true
}

// Connection strings: URLs and key=value strings with a password.

var passwordInURL = &Rule{
	Rule: finding.Rule{ID: "DV7010", Title: "Password in a URL", Severity: finding.High,
		Description: "A URL with a password in its user information (`scheme://user:password@host`), for any scheme no more specific rule knows (HTTP basic auth, FTP, SMTP, LDAP, Git remotes)"},
	Keywords:  []string{"://"},
	Regex:     re(urlCredential(``)),
	Precheck:  urlUserinfo,
	Valid:     urlPassword,
	ValidHost: realHost,
	Fallback:  2,
}

var postgresURL = &Rule{
	Rule: finding.Rule{ID: "DV7101", Title: "PostgreSQL connection URL with a password", Severity: finding.Critical,
		Description: "A PostgreSQL URL with a password (`postgres://user:password@host/db`, also `postgresql+driver://` as SQLAlchemy writes it): it logs in to the database; a `${VAR}` or other reference as the password is not reported"},
	Keywords:  []string{"postgres://", "postgresql://", "postgres+", "postgresql+"},
	Regex:     re(urlCredential(`postgres(?:ql)?(?:\+[a-z0-9]+)?`)),
	Precheck:  urlUserinfo,
	Valid:     urlPassword,
	ValidHost: realHost,
	Fallback:  1,
}

var mysqlURL = &Rule{
	Rule: finding.Rule{ID: "DV7102", Title: "MySQL or MariaDB connection URL with a password", Severity: finding.Critical,
		Description: "A MySQL or MariaDB URL with a password (`mysql://user:password@host/db`): it logs in to the database; a `${VAR}` or other reference as the password is not reported"},
	Keywords:  []string{"mysql://", "mysql+", "mysqlx://", "mariadb://", "mariadb+"},
	Regex:     re(urlCredential(`(?:mysql|mariadb|mysqlx)(?:\+[a-z0-9]+)?`)),
	Precheck:  urlUserinfo,
	Valid:     urlPassword,
	ValidHost: realHost,
	Fallback:  1,
}

var mongodbURL = &Rule{
	Rule: finding.Rule{ID: "DV7103", Title: "MongoDB connection URL with a password", Severity: finding.Critical,
		Description: "A MongoDB URL with a password (`mongodb://` or `mongodb+srv://user:password@host`): it logs in to the cluster; a `${VAR}` or other reference as the password is not reported"},
	Keywords:  []string{"mongodb://", "mongodb+srv://"},
	Regex:     re(urlCredential(`mongodb(?:\+srv)?`)),
	Precheck:  urlUserinfo,
	Valid:     urlPassword,
	ValidHost: realHost,
	Fallback:  1,
}

var redisURL = &Rule{
	Rule: finding.Rule{ID: "DV7104", Title: "Redis connection URL with a password", Severity: finding.Critical,
		Description: "A Redis URL with a password (`redis://:password@host` or `rediss://user:password@host`): it reads and writes every key; a `${VAR}` or other reference as the password is not reported"},
	Keywords:  []string{"redis://", "rediss://"},
	Regex:     re(urlCredential(`rediss?`)),
	Precheck:  urlUserinfo,
	Valid:     urlPassword,
	ValidHost: realHost,
	Fallback:  1,
}

var amqpURL = &Rule{
	Rule: finding.Rule{ID: "DV7105", Title: "AMQP broker URL with a password", Severity: finding.Critical,
		Description: "An AMQP (RabbitMQ) URL with a password (`amqp://user:password@host/vhost`): it reads and publishes messages; a `${VAR}` or other reference as the password is not reported"},
	Keywords:  []string{"amqp://", "amqps://"},
	Regex:     re(urlCredential(`amqps?`)),
	Precheck:  urlUserinfo,
	Valid:     urlPassword,
	ValidHost: realHost,
	Fallback:  1,
}

var jdbcURL = &Rule{
	Rule: finding.Rule{ID: "DV7106", Title: "JDBC URL with a password", Severity: finding.Critical,
		Description: "A JDBC URL that carries a `password=` parameter (`jdbc:postgresql://host/db?user=app&password=…`, `jdbc:sqlserver://…;password=…`)"},
	Keywords: []string{"jdbc:"},
	Regex:    re(`jdbc:[a-z0-9]+:[^\s"'<>]*?[;?&](?i:password)=(?P<secret>[^;&\s"'<>]+)`),
	Valid:    urlPassword,
	Fallback: 1,
}

var connectionString = &Rule{
	Rule: finding.Rule{ID: "DV7107", Title: "Connection string with a password", Severity: finding.Critical,
		Description: "An ADO.NET, ODBC or OLE DB connection string with a server and a literal `Password=` or `Pwd=` (`Server=db;User Id=app;Password=…;`)"},
	Keywords: []string{"password=", "pwd="},
	Regex:    re(`(?i)(?:server|data source|host|address|addr|dsn)\s*=\s*[^;"'\r\n]+;[^"'\r\n]*?\b(?:password|pwd)\s*=\s*(?P<secret>[^;"'\s]{4,})`),
	Valid:    urlPassword,
	Near:     true,
	Before:   320,
	After:    128,
	Fallback: 1,
}
