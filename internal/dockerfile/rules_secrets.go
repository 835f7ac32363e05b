package dockerfile

import (
	"bytes"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/secrets"
	"github.com/dockvet/dockvet/internal/shell"
)

var refSecrets = []string{"https://docs.docker.com/build/building/secrets/", "https://docs.docker.com/reference/build-checks/secrets-used-in-arg-or-env/"}

// secretRemediation is the advice of every rule about a credential
// written into the Dockerfile.
const secretRemediation = "Remove the value from the Dockerfile, revoke and rotate it, and pass it only where needed: " +
	"`RUN --mount=type=secret,id=…` at build time, or a runtime secret (Docker/Compose secrets, a vault) for the container."

// secretValues is the check of the rules about a credential in the values
// of one kind of instruction (ENV, ARG, LABEL).
type secretValues struct{ keyword string }

func (s secretValues) check(p *Pass) {
	for _, st := range p.File.Stages {
		for _, in := range slices.Concat(metaArgsIf(p, s.keyword, st), st.Instructions) {
			for _, kv := range keyValues(in, s.keyword) {
				if m, ok := secrets.Assignment(kv.key, kv.value); ok {
					p.ReportLine(in, p.lineWith(in, kv.key), "%s %s holds %s (%s).", s.keyword, kv.key, m.Kind(), m.Masked()).Fingerprint = m.Fingerprint()
				}
			}
		}
	}
}

// metaArgsIf adds the global ARGs once (with the first stage) for ARG rules.
func metaArgsIf(p *Pass, keyword string, st *Stage) []*Instruction {
	if keyword == "ARG" && st.Index == 0 {
		return p.File.MetaArgs
	}
	return nil
}

type keyValue struct{ key, value string }

func keyValues(in *Instruction, keyword string) []keyValue {
	var out []keyValue
	switch c := in.Command.(type) {
	case *instructions.EnvCommand:
		if keyword == "ENV" {
			for _, kv := range c.Env {
				out = append(out, keyValue{kv.Key, kv.Value})
			}
		}
	case *instructions.LabelCommand:
		if keyword == "LABEL" {
			for _, kv := range c.Labels {
				out = append(out, keyValue{kv.Key, kv.Value})
			}
		}
	case *instructions.ArgCommand:
		if keyword == "ARG" {
			for _, kv := range c.Args {
				if kv.Value != nil {
					out = append(out, keyValue{kv.Key, *kv.Value})
				}
			}
		}
	}
	return out
}

var ruleEnvSecret = &Rule{
	Rule: finding.Rule{
		ID: "DV1040", Title: "Secret in ENV", Practice: finding.PracticeSecrets, Severity: finding.Critical, CIS: "4.10",
		Surfaces: historySurfaces,
		Description: "An ENV instruction sets a credential. ENV values are stored in the image configuration, visible to `docker inspect` " +
			"and `docker history` on every machine that has the image, and inherited by every container and child image.",
		Remediation: secretRemediation,
		References:  refSecrets,
	},
	Check: secretValues{keyword: "ENV"}.check,
}

var ruleArgSecret = &Rule{
	Rule: finding.Rule{
		ID: "DV1041", Title: "Secret as an ARG default", Practice: finding.PracticeSecrets, Severity: finding.Critical, CIS: "4.10",
		Surfaces: historySurfaces,
		Description: "An ARG has a credential as its default value. The value is in the Dockerfile (and so in version control), " +
			"and build arguments used by RUN are recorded in the image history.",
		Remediation: secretRemediation,
		References:  refSecrets,
	},
	Check: secretValues{keyword: "ARG"}.check,
}

// weakValues is the check of DV1048: a secret-named ENV or ARG default
// whose literal value no secret rule reports (too short or too plain to be
// taken for a generated secret) is still a credential baked into the
// image, a weak or default one.
func weakValues(p *Pass) {
	for _, st := range p.File.Stages {
		for _, keyword := range []string{"ENV", "ARG"} {
			for _, in := range slices.Concat(metaArgsIf(p, keyword, st), st.Instructions) {
				for _, kv := range keyValues(in, keyword) {
					if !secrets.SensitiveName(kv.key) || !secrets.WeakLiteral(kv.value) {
						continue
					}
					if _, strong := secrets.Assignment(kv.key, kv.value); strong {
						continue // DV1040, DV1041
					}
					v := strings.Trim(strings.TrimSpace(kv.value), `"'`)
					f := p.ReportLine(in, p.lineWith(in, kv.key), "%s %s is set to a literal credential (%s) in the Dockerfile: weak or a default, it is the same in every image and container.",
						keyword, kv.key, finding.Mask(v))
					f.Fingerprint = finding.Fingerprint("DV1048", v)
				}
			}
		}
	}
}

var ruleWeakSecret = &Rule{
	Rule: finding.Rule{
		ID: "DV1048", Title: "Weak literal credential in ENV or ARG", Practice: finding.PracticeSecrets, Severity: finding.Low, CIS: "4.10",
		Description: "An ENV or an ARG default named like a credential (password, token, secret, API key) is set to a literal that does not look " +
			"generated (`ENV DB_PASSWORD=hunter2hunter2`, `POSTGRES_PASSWORD=postgres`): a weak or default credential, written into the " +
			"Dockerfile and the image configuration, the same for everyone who runs the image. References (`${DB_PASSWORD}`), " +
			"placeholders (`changeme`, `<your-token>`), encrypted values, paths and flags are not reported; strong literals are DV1040 and DV1041.",
		Remediation: "Do not set credentials in the Dockerfile: read them at run time from a secret (Docker/Compose secrets, `*_FILE` " +
			"variables, a vault) and generate them per deployment; for build steps use `RUN --mount=type=secret`.",
		References: refSecrets,
		Peers:      []string{"SecretsUsedInArgOrEnv", "CIS-DI-0010"},
	},
	Check: weakValues,
}

var ruleLabelSecret = &Rule{
	Rule: finding.Rule{
		ID: "DV1043", Title: "Secret in LABEL", Practice: finding.PracticeSecrets, Severity: finding.High, CIS: "4.10",
		Surfaces:    historySurfaces,
		Description: "A LABEL holds a credential. Labels are part of the image configuration that anyone with the image can read.",
		Remediation: secretRemediation,
		References:  refSecrets,
	},
	Check: secretValues{keyword: "LABEL"}.check,
}

var ruleSecretArgUsed = &Rule{
	Rule: finding.Rule{
		ID: "DV1042", Title: "Secret passed as a build argument", Practice: finding.PracticeSecrets, Severity: finding.Medium, CIS: "4.10",
		Description: "An ARG named like a credential is used by a RUN. Build arguments that a RUN uses are written into the image history " +
			"(`docker history` shows `|1 TOKEN=… /bin/sh -c …`), so the secret ships with the image.",
		Remediation: "Pass the secret with `RUN --mount=type=secret,id=token,env=TOKEN …` (BuildKit) and `docker build --secret id=token,env=TOKEN`.",
		References:  refSecrets,
	},
	Check: func(p *Pass) {
		for _, st := range p.File.Stages {
			for _, in := range st.Instructions {
				a, ok := in.Command.(*instructions.ArgCommand)
				if !ok {
					continue
				}
				for _, kv := range a.Args {
					if !secrets.SensitiveName(kv.Key) {
						continue
					}
					if kv.Value != nil && secrets.LiteralSecret(*kv.Value) {
						continue // DV1041 reports the value itself
					}
					if use := firstUse(st, kv.Key); use != nil {
						p.Report(in, "ARG %s is a secret passed as a build argument and used by the RUN on line %d; it is recorded in the image history.", kv.Key, use.Line)
					}
				}
			}
		}
	},
}

// firstUse finds the first RUN of the stage that expands $name.
func firstUse(st *Stage, name string) *Instruction {
	re := regexp.MustCompile(`\$\{?` + regexp.QuoteMeta(name) + `\b`)
	for _, in := range st.Instructions {
		if in.Keyword == "RUN" && (re.MatchString(in.Original) || heredocsMatch(in, re)) {
			return in
		}
	}
	return nil
}

func heredocsMatch(in *Instruction, re *regexp.Regexp) bool {
	for _, h := range in.Heredocs {
		if re.MatchString(h.Content) {
			return true
		}
	}
	return false
}

// Credential files by base name (glob), and directories whose contents are
// credentials.
var (
	credentialFiles = []string{"id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "id_ecdsa_sk", "id_ed25519_sk", "*.key", "*.p12", "*.pfx",
		"*.jks", "*.keystore", "*.ppk", ".env", ".env.*", ".npmrc", ".pypirc", ".netrc", "_netrc", ".git-credentials", ".htpasswd",
		"kubeconfig", "credentials.json", "credentials", "service-account*.json", "*.tfvars", ".dockercfg", "secrets.yml", "secrets.yaml",
		"master.key", "*.ovpn", ".pgpass", ".my.cnf", "terraform.tfstate"}
	credentialDirs = []string{".ssh", ".aws", ".gnupg", ".kube", ".docker", ".azure", ".gcloud", ".config/gcloud"}
	benignSuffixes = []string{".pub", ".example", ".sample", ".template", ".dist", ".tpl", ".md"}
)

// credentialPath reports why a path names a credential file, or "".
func credentialPath(p string) string {
	p = filepath.ToSlash(strings.TrimSuffix(p, "/"))
	base := path.Base(p)
	for _, s := range benignSuffixes {
		if strings.HasSuffix(strings.ToLower(base), s) {
			return ""
		}
	}
	for _, pat := range credentialFiles {
		if ok, _ := path.Match(pat, base); ok {
			return "a credential file (" + base + ")"
		}
	}
	for _, d := range credentialDirs {
		if p == d || strings.HasSuffix(p, "/"+d) || strings.Contains(p+"/", "/"+d+"/") || strings.HasPrefix(p, d+"/") {
			if base == "known_hosts" || base == "authorized_keys" || base == "config" && d == ".ssh" || strings.HasSuffix(base, ".pub") {
				return ""
			}
			return "a credential directory (" + d + "/)"
		}
	}
	return ""
}

// pemIsPrivate reads a .pem from the build context directory dir when it
// is there: a certificate is public, a private key is not. Unknown content
// counts as a key only when the name says so.
func pemIsPrivate(dir, src string) bool {
	base := strings.ToLower(path.Base(src))
	data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(src)))
	if err == nil {
		return bytes.Contains(data, []byte("PRIVATE KEY"))
	}
	return strings.Contains(base, "key") || strings.Contains(base, "priv") || strings.HasPrefix(base, "id_")
}

var ruleCopyCredential = &Rule{
	Rule: finding.Rule{
		ID: "DV1044", Title: "Credential file copied into the image", Practice: finding.PracticeSecrets, Severity: finding.High, CIS: "4.10",
		Description: "COPY or ADD brings a key or credential file (SSH keys, TLS private keys, .env, .npmrc, .pypirc, .netrc, cloud " +
			"credentials, Docker or Kubernetes configs) into a layer. Deleting it in a later step does not remove it from the image.",
		Remediation: "Keep credential files out of the build context (.dockerignore) and mount them only for the step that needs them: " +
			"`RUN --mount=type=secret,id=npmrc,target=/root/.npmrc npm ci`, or `RUN --mount=type=ssh` for SSH keys.",
		References: refSecrets,
	},
	Check: func(p *Pass) {
		dir := p.contextDir()
		for _, st := range p.File.Stages {
			for _, in := range st.Instructions {
				var sd *instructions.SourcesAndDest
				switch c := in.Command.(type) {
				case *instructions.CopyCommand:
					if c.From != "" {
						continue // from another stage or image, not the context
					}
					sd = &c.SourcesAndDest
				case *instructions.AddCommand:
					sd = &c.SourcesAndDest
				default:
					continue
				}
				for _, src := range sd.SourcePaths {
					if strings.Contains(src, "://") {
						continue
					}
					what := credentialPath(src)
					if what == "" && strings.HasSuffix(strings.ToLower(src), ".pem") && pemIsPrivate(dir, src) {
						what = "a PEM private key"
					}
					if what == "" && len(sd.SourcePaths) == 1 {
						if d := credentialPath(sd.DestPath); d != "" {
							what = "a file at " + sd.DestPath + ", " + d
						}
					}
					if what != "" {
						p.Report(in, "%s %s puts %s into a layer; deleting it later does not remove it.", in.Keyword, src, what)
					}
				}
			}
		}
	},
}

// Commands with an option that takes a password or token.
var passwordOptions = map[string][]string{
	"docker": {"-p", "--password"}, "podman": {"-p", "--password"}, "skopeo": {"--password", "--creds", "--src-creds", "--dest-creds"},
	"mysql": {"--password"}, "mysqladmin": {"--password"}, "mysqldump": {"--password"}, "mariadb": {"--password"},
	"sshpass": {"-p"}, "wget": {"--password", "--http-password", "--ftp-password"}, "curl": {"-u", "--user", "--proxy-user"},
	"git": {}, "htpasswd": {}, "redis-cli": {"-a", "--pass"}, "psql": {}, "helm": {"--password"}, "npm": {"--_authToken", "--//registry.npmjs.org/:_authToken"},
	"pip": {}, "twine": {"-p", "--password"}, "gh": {"--with-token"}, "vault": {}, "az": {"-p", "--password", "--secret"},
	"doctl": {"-t", "--access-token"}, "heroku": {}, "svn": {"--password"}, "oc": {"-p", "--password", "--token"}, "kubectl": {"--token", "--password"},
}

var ruleInlineCredential = &Rule{
	Rule: finding.Rule{
		ID: "DV1045", Title: "Credential on a RUN command line", Practice: finding.PracticeSecrets, Severity: finding.High, CIS: "4.10",
		Surfaces: historySurfaces,
		Description: "A RUN passes a literal credential: a token in a known format, a password option (`-p`, `--password`, `curl -u user:pass`), " +
			"a URL with a password, or a secret-named variable. The command line is stored in the image history and in the Dockerfile.",
		Remediation: "Read the credential from a BuildKit secret mount at build time (`RUN --mount=type=secret,id=pw docker login -u x --password-stdin < /run/secrets/pw`) and rotate the exposed one.",
		References:  refSecrets,
	},
	Check: func(p *Pass) {
		for _, st := range p.File.Stages {
			st.Commands(func(in *Instruction, c *shell.Command) {
				if m, ok := inlineCredential(c); ok {
					p.ReportCmd(in, c, "`%s` is given %s on its command line (%s).", c.Name, m.Kind(), m.Masked()).Fingerprint = m.Fingerprint()
				}
			})
		}
	},
}

// inlineCredential finds one literal credential in a command.
func inlineCredential(c *shell.Command) (secrets.Match, bool) {
	for _, a := range c.Assigns {
		if m, ok := secrets.Assignment(a.Name, a.Value); ok {
			return m, true
		}
	}
	if c.Name == "echo" || c.Name == "printf" {
		// `echo "$PASSWORD" | docker login --password-stdin` passes a
		// literal only when echo's argument is one.
		return secrets.Match{}, false
	}
	for _, a := range c.Args {
		if ms := secrets.Scan(a); len(ms) > 0 {
			return ms[0], true
		}
	}
	if opts, ok := passwordOptions[c.Name]; ok {
		for _, o := range opts {
			v, ok := c.Value(o)
			if !ok {
				continue
			}
			if o == "-u" || o == "--user" || o == "--proxy-user" || o == "--creds" || strings.HasSuffix(o, "-creds") {
				_, pw, has := strings.Cut(v, ":")
				if !has {
					continue
				}
				v = pw
			}
			if secrets.LiteralSecret(v) {
				return secrets.Literal(v), true
			}
		}
	}
	switch c.Name {
	case "mysql", "mysqladmin", "mysqldump", "mariadb":
		// -pSECRET (no space) is a password; -p alone prompts.
		for _, a := range c.Args {
			if strings.HasPrefix(a, "-p") && len(a) > 2 && secrets.LiteralSecret(a[2:]) {
				return secrets.Literal(a[2:]), true
			}
		}
	case "htpasswd":
		if c.Has("-b") {
			if pos := c.Positional(); len(pos) >= 3 && secrets.LiteralSecret(pos[len(pos)-1]) {
				return secrets.Literal(pos[len(pos)-1]), true
			}
		}
	case "aws":
		// aws configure set aws_secret_access_key VALUE
		pos := c.Positional()
		if len(pos) >= 4 && pos[0] == "configure" && pos[1] == "set" {
			if m, ok := secrets.Assignment(pos[2], pos[3]); ok {
				return m, true
			}
		}
	case "npm", "yarn", "pnpm":
		pos := c.Positional()
		if len(pos) >= 4 && pos[0] == "config" && pos[1] == "set" {
			if m, ok := secrets.Assignment(pos[2], pos[3]); ok {
				return m, true
			}
		}
		if len(pos) >= 3 && pos[0] == "config" && pos[1] == "set" {
			if k, v, ok := strings.Cut(pos[2], "="); ok {
				if m, ok := secrets.Assignment(k, v); ok {
					return m, true
				}
			}
		}
	}
	return secrets.Match{}, false
}

// Files that tools write credentials to.
var credentialStores = []string{".npmrc", ".pypirc", ".netrc", ".git-credentials", ".docker/config.json", ".aws/credentials", ".kube/config", ".ssh/id_", ".pgpass", ".my.cnf", ".yarnrc"}

var rulePersistedCredential = &Rule{
	Rule: finding.Rule{
		ID: "DV1046", Title: "RUN stores a credential in the image", Practice: finding.PracticeSecrets, Severity: finding.Medium, CIS: "4.10",
		Surfaces: historySurfaces,
		Description: "A build step writes a credential into the filesystem: `docker login`, `npm config set …_authToken`, `git config credential.helper store`, " +
			"`aws configure set`, a token echoed into ~/.npmrc or ~/.netrc, or a private key generated with ssh-keygen/openssl. " +
			"Unless the same RUN removes it, the file stays in the layer even if the value came from a secret mount.",
		Remediation: "Mount the credential file for the one step that needs it (`RUN --mount=type=secret,id=npmrc,target=/root/.npmrc npm ci`), " +
			"or remove it in the same RUN (`… && docker logout`, `rm ~/.npmrc`). Generate keys at container start, not at build time.",
		References: refSecrets,
	},
	Check: func(p *Pass) {
		for _, st := range p.File.Stages {
			st.Commands(func(in *Instruction, c *shell.Command) {
				what, cleanup := persistsCredential(c)
				if what == "" {
					return
				}
				if anyIn(in, func(x *shell.Command) bool { return x.Index > c.Index && cleanup(x) }) {
					return
				}
				p.ReportCmd(in, c, "%s, and this RUN does not remove it.", what)
			})
		}
	},
}

// persistsCredential says what credential a command leaves on disk, and how
// a later command of the same RUN would remove it.
func persistsCredential(c *shell.Command) (string, func(*shell.Command) bool) {
	rmAny := func(frags ...string) func(*shell.Command) bool {
		return func(x *shell.Command) bool {
			if x.Name != "rm" && x.Name != "shred" {
				return false
			}
			for _, a := range x.Positional() {
				for _, f := range frags {
					if strings.Contains(a, f) {
						return true
					}
				}
			}
			return false
		}
	}
	pos := c.Positional()
	sub := func(i int) string {
		if i < len(pos) {
			return pos[i]
		}
		return ""
	}
	switch {
	case (c.Name == "docker" || c.Name == "podman" || c.Name == "helm" && sub(0) == "registry") && slices.Contains(pos, "login"):
		return "`" + c.Name + " login` writes the registry credential to config.json", func(x *shell.Command) bool {
			return x.Name == c.Name && slices.Contains(x.Positional(), "logout") || rmAny(".docker")(x)
		}
	case (c.Name == "npm" || c.Name == "pnpm" || c.Name == "yarn") && sub(0) == "config" && sub(1) == "set" &&
		(strings.Contains(strings.ToLower(sub(2)), "auth") || strings.Contains(strings.ToLower(sub(2)), "password")):
		return "`" + c.Name + " config set " + strings.SplitN(sub(2), "=", 2)[0] + "` writes a registry token to .npmrc", func(x *shell.Command) bool {
			return (x.Name == c.Name && len(x.Positional()) > 1 && x.Positional()[1] == "delete") || rmAny(".npmrc", ".yarnrc")(x)
		}
	case c.Name == "git" && slices.Contains(pos, "config") && slices.Contains(c.Args, "credential.helper") && slices.Contains(c.Args, "store"):
		return "`git config credential.helper store` saves Git credentials in plain text", rmAny(".git-credentials")
	case c.Name == "aws" && sub(0) == "configure" && sub(1) == "set" && secrets.SensitiveName(sub(2)):
		return "`aws configure set " + sub(2) + "` writes the key to ~/.aws/credentials", rmAny(".aws")
	case c.Name == "gcloud" && sub(0) == "auth" && sub(1) == "activate-service-account":
		return "`gcloud auth activate-service-account` stores the service-account key in ~/.config/gcloud", rmAny("gcloud")
	case c.Name == "az" && sub(0) == "login":
		return "`az login` stores tokens in ~/.azure", rmAny(".azure")
	case c.Name == "doctl" && sub(0) == "auth" && sub(1) == "init":
		return "`doctl auth init` stores the access token", rmAny("doctl")
	case c.Name == "ssh-keygen" && !c.Has("-l", "-y", "-F", "-R", "-H", "-Y") && !c.Has("-A"):
		return "`ssh-keygen` generates a private key inside the image, the same for every container", rmAny("id_", ".ssh", "key")
	case c.Name == "openssl" && (sub(0) == "genrsa" || sub(0) == "genpkey" || sub(0) == "ecparam" && c.Has("-genkey") || sub(0) == "req" && c.Has("-newkey")):
		return "`openssl " + sub(0) + "` generates a private key inside the image, the same for every container", rmAny("key", ".pem")
	}
	for _, r := range c.Redirects {
		if r.Op != ">" && r.Op != ">>" && r.Op != "1>" {
			continue
		}
		for _, store := range credentialStores {
			if strings.Contains(r.Target, store) && (c.Name == "echo" || c.Name == "printf" || c.Name == "cat") {
				return "`" + c.Name + "` writes " + r.Target + ", a credential file", rmAny(store)
			}
		}
	}
	return "", nil
}
