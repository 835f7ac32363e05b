package dockerfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/dockvet/dockvet/internal/safefile"

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
					f := p.ReportLine(in, p.lineWith(in, kv.key), "%s %s holds %s (%s).", s.keyword, kv.key, m.Kind(), m.Masked())
					f.Fingerprint = m.Fingerprint()
					// A weak literal under a secret's name (a default
					// password) is reported at the engine's low severity.
					if m.Severity <= finding.Low && m.Severity.Valid() {
						f.Severity = m.Severity
					}
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

// keyValues are the settings of an ENV, LABEL or ARG as the Dockerfile
// writes them: a secret is reported where it is written, and a value that
// only refers to another (`ENV DB_PASSWORD=${DB_PASSWORD}`) is judged where
// that one is set.
func keyValues(in *Instruction, keyword string) []keyValue {
	var out []keyValue
	add := func(k, expanded string) {
		v := expanded // quotes removed, as BuildKit reads it
		if w, ok := in.Written[k]; ok && strings.Contains(w, "$") {
			v = w
		}
		out = append(out, keyValue{k, v})
	}
	switch c := in.Command.(type) {
	case *instructions.EnvCommand:
		if keyword == "ENV" {
			for _, kv := range c.Env {
				add(kv.Key, kv.Value)
			}
		}
	case *instructions.LabelCommand:
		if keyword == "LABEL" {
			for _, kv := range c.Labels {
				add(kv.Key, kv.Value)
			}
		}
	case *instructions.ArgCommand:
		if keyword == "ARG" {
			for _, kv := range c.Args {
				if kv.Value != nil {
					add(kv.Key, *kv.Value)
				}
			}
		}
	}
	return out
}

var ruleEnvSecret = &Rule{
	Rule: finding.Rule{
		ID: "DV1040", Title: "Secret in ENV", Practice: finding.PracticeSecrets, Severity: finding.Critical, CIS: "4.10",
		Peers:    []string{"DL3064", "AVD-DS-0031"},
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
		Peers:    []string{"DL3064", "AVD-DS-0031"},
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
		Peers: []string{"DL3064", "AVD-DS-0031"},
		Description: "An ARG named like a credential takes a secret as a build argument. Build arguments that a RUN uses are written into the image history " +
			"(`docker history` shows `|1 TOKEN=… /bin/sh -c …`), an ENV that copies one keeps it in the image configuration, and every build argument " +
			"given is recorded in BuildKit's max-mode provenance attestation and in CI logs. An ARG that nothing uses is reported at low severity: " +
			"it still asks whoever builds for the secret on the command line.",
		Remediation: "Pass the secret with `RUN --mount=type=secret,id=token,env=TOKEN …` (BuildKit) and `docker build --secret id=token,env=TOKEN`.",
		References:  refSecrets,
	},
	Check: func(p *Pass) {
		redeclared := map[string]bool{}
		for _, st := range p.File.Stages {
			for _, in := range st.Instructions {
				if a, ok := in.Command.(*instructions.ArgCommand); ok {
					for _, kv := range a.Args {
						redeclared[kv.Key] = true
					}
				}
			}
		}
		// A global ARG is only seen by FROM lines unless a stage declares it
		// again; then the stage's ARG is the one reported.
		for _, in := range p.File.MetaArgs {
			if a, ok := in.Command.(*instructions.ArgCommand); ok {
				for _, kv := range a.Args {
					if secretArg(kv) && !redeclared[kv.Key] {
						f := p.ReportLine(in, p.lineWith(in, kv.Key), "ARG %s asks for a secret as a build argument, which provenance attestations and build logs record.", kv.Key)
						f.Severity = finding.Low
					}
				}
			}
		}
		for _, st := range p.File.Stages {
			for _, in := range st.Instructions {
				a, ok := in.Command.(*instructions.ArgCommand)
				if !ok {
					continue
				}
				for _, kv := range a.Args {
					if !secretArg(kv) {
						continue
					}
					line := p.lineWith(in, kv.Key)
					switch use, env := firstUse(st, in, kv.Key); {
					case use != nil:
						p.ReportLine(in, line, "ARG %s is a secret passed as a build argument and used by the RUN on line %d; it is recorded in the image history.", kv.Key, use.Line)
					case env != nil:
						p.ReportLine(in, line, "ARG %s is a secret passed as a build argument and copied by the ENV on line %d into the image configuration.", kv.Key, env.Line)
					default:
						f := p.ReportLine(in, line, "ARG %s asks for a secret as a build argument, which provenance attestations and build logs record.", kv.Key)
						f.Severity = finding.Low
					}
				}
			}
		}
	},
}

// secretArg reports an ARG named like a credential whose default, if any,
// is not itself a literal secret (DV1041 reports those). Names of files
// and paths (SIGNING_KEY_PATH, GOOGLE_APPLICATION_CREDENTIALS) hold no
// secret.
func secretArg(kv instructions.KeyValuePairOptional) bool {
	name := strings.ToUpper(kv.Key)
	// An access key ID is half of a cloud credential: the secret half is
	// passed the same way.
	if !secrets.SensitiveName(kv.Key) && !strings.HasSuffix(name, "ACCESS_KEY_ID") || credentialFileVars[name] != "" {
		return false
	}
	return kv.Value == nil || !secrets.LiteralSecret(*kv.Value)
}

// firstUse finds the first RUN of the stage that expands $name, or the
// first ENV after the ARG that copies it.
func firstUse(st *Stage, arg *Instruction, name string) (run, env *Instruction) {
	re := regexp.MustCompile(`\$\{?` + regexp.QuoteMeta(name) + `\b`)
	after := false
	for _, in := range st.Instructions {
		after = after || in == arg
		if in.Keyword == "RUN" && (re.MatchString(in.Original) || heredocsMatch(in, re)) {
			return in, nil
		}
		if in.Keyword == "ENV" && after && env == nil && re.MatchString(in.Original) {
			env = in
		}
	}
	return nil, env
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
	credentialFiles = newGlobs("id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "id_ecdsa_sk", "id_ed25519_sk", "*.key", "*.p12", "*.pfx",
		"*.jks", "*.keystore", "*.ppk", ".env", ".env.*", ".npmrc", ".pypirc", ".netrc", "_netrc", ".git-credentials", ".htpasswd",
		"kubeconfig", "credentials.json", "credentials", "service-account*.json", "*.tfvars", ".dockercfg", "secrets.yml", "secrets.yaml",
		"master.key", "*.ovpn", ".pgpass", ".my.cnf", "terraform.tfstate")
	credentialDirs = []string{".ssh", ".aws", ".gnupg", ".kube", ".docker", ".azure", ".gcloud", ".config/gcloud"}
	benignSuffixes = []string{".pub", ".example", ".sample", ".template", ".dist", ".tpl", ".md"}
)

// globs are base-name patterns (path.Match syntax) sorted once by shape:
// each COPY source and destination meets every credential pattern, and
// most are a plain name or "*.ext", compared directly.
type globs struct {
	names    map[string]bool
	suffixes []string
	other    []string
}

func newGlobs(pats ...string) globs {
	g := globs{names: map[string]bool{}}
	for _, p := range pats {
		switch {
		case !strings.ContainsAny(p, `*?[\`):
			g.names[p] = true
		case p[0] == '*' && !strings.ContainsAny(p[1:], `*?[\`):
			g.suffixes = append(g.suffixes, p[1:])
		default:
			g.other = append(g.other, p)
		}
	}
	return g
}

// match reports whether a base name (no slash) matches a pattern.
func (g globs) match(base string) bool {
	if g.names[base] {
		return true
	}
	for _, s := range g.suffixes {
		if strings.HasSuffix(base, s) {
			return true
		}
	}
	for _, p := range g.other {
		if ok, _ := path.Match(p, base); ok {
			return true
		}
	}
	return false
}

// credentialPath reports why a path names a credential file, or "".
func credentialPath(p string) string {
	p = filepath.ToSlash(strings.TrimSuffix(p, "/"))
	base := path.Base(p)
	lower := strings.ToLower(base)
	for _, s := range benignSuffixes {
		if strings.HasSuffix(lower, s) {
			return ""
		}
	}
	if credentialFiles.match(base) {
		return "a credential file (" + base + ")"
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

// opaqueCredentials are credential files whose content the secret engine
// cannot read (keystores are binary; a Rails master key and an htpasswd
// file hold a bare key and hashes): their name decides.
var opaqueCredentials = newGlobs("*.p12", "*.pfx", "*.jks", "*.keystore", "master.key", ".htpasswd", "*.kdbx")

// publicNames are destinations that say a copied key is a public one.
var publicNames = []string{".pub", ".asc", ".gpg", ".crt", ".cer", "authorized_keys", "known_hosts"}

// credentialFileVars are the variables tools read a credential file's
// path from, with what the file is.
var credentialFileVars = map[string]string{
	"GOOGLE_APPLICATION_CREDENTIALS": "a Google Cloud service account key",
	"AWS_SHARED_CREDENTIALS_FILE":    "the AWS shared credentials file",
	"AWS_CONFIG_FILE":                "the AWS CLI configuration, which can hold keys",
	"KUBECONFIG":                     "a Kubernetes client configuration",
	"NPM_CONFIG_USERCONFIG":          "an .npmrc",
	"PGPASSFILE":                     "a PostgreSQL password file",
}

// contentVerdict says what a copied file's content is, when dockvet can
// read it in the build context: judged is false when the file is not
// there (or is opaque), and then its name decides. Content in which the
// secret engine finds a secret is DV1047's to report, at the secret's
// line; what remains is a private key the engine did not recognise.
func contentVerdict(dir, src string) (what string, judged bool) {
	if opaqueCredentials.match(path.Base(src)) {
		return "", false
	}
	full := filepath.Join(dir, filepath.FromSlash(src))
	fi, err := os.Stat(full)
	if err != nil {
		return "", false
	}
	if fi.IsDir() {
		return "", true // DV1047 reads every file under it
	}
	fh, err := safefile.Open(full)
	if err != nil {
		return "", false
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, 1<<20))
	if err != nil {
		return "", false
	}
	if ms, _ := secrets.Default().ScanReader(bytes.NewReader(data), src); len(ms) > 0 {
		return "", true
	}
	for _, marker := range []string{"PRIVATE KEY-----", "PRIVATE KEY BLOCK-----", "PuTTY-User-Key-File"} {
		if bytes.Contains(data, []byte(marker)) {
			return "a private key", true
		}
	}
	return "", true
}

// keyByName says whether a .pem or .key that is not in the build context
// is a private key by its names: a destination such as key.pub or
// ca.crt is public, a name with key or priv in it is not.
func keyByName(src, dest string) bool {
	d := strings.ToLower(path.Base(strings.TrimSuffix(dest, "/")))
	for _, pub := range publicNames {
		if strings.HasSuffix(d, pub) || strings.HasSuffix(strings.ToLower(dest), "/certs/") {
			return false
		}
	}
	base := strings.ToLower(path.Base(src))
	if strings.HasSuffix(base, ".key") {
		return !strings.Contains(base, "pub") && !strings.Contains(base, "gpg") && !strings.Contains(base, "pgp")
	}
	return strings.Contains(base, "key") || strings.Contains(base, "priv") || strings.HasPrefix(base, "id_")
}

var ruleCopyCredential = &Rule{
	Rule: finding.Rule{
		ID: "DV1044", Title: "Credential file copied into the image", Practice: finding.PracticeSecrets, Severity: finding.High, CIS: "4.10",
		Peers: []string{"AVD-DS-0031"},
		Description: "COPY or ADD brings a key or credential file (SSH keys, TLS private keys, .env, .npmrc, .pypirc, .netrc, cloud " +
			"credentials, Docker or Kubernetes configs) into a layer, or an ENV points a tool at such a file that a COPY brought in. " +
			"Deleting it in a later step does not remove it from the image. A file in the build context is judged by its content " +
			"(a PGP or X.509 public key is not a credential, and DV1047 reports the secrets it finds at their line); a file that is not is " +
			"judged by its name. In a build stage the final image copies nothing from, the finding says so and is of medium severity.",
		Remediation: "Keep credential files out of the build context (.dockerignore) and mount them only for the step that needs them: " +
			"`RUN --mount=type=secret,id=npmrc,target=/root/.npmrc npm ci`, or `RUN --mount=type=ssh` for SSH keys.",
		References: refSecrets,
	},
	Check: func(p *Pass) {
		dir := p.contextDir()
		shipped := p.File.shipped()
		for _, st := range p.File.Stages {
			for _, in := range st.Instructions {
				sd, ok := contextCopy(in)
				if !ok {
					if what, line := credentialVarFile(p, st, in); what != "" {
						f := p.ReportLine(in, line, "%s", what)
						exposure(f, st, shipped)
					}
					continue
				}
				for _, src := range sd.SourcePaths {
					if strings.Contains(src, "://") || strings.HasPrefix(src, "git@") {
						continue
					}
					what := copiedCredential(dir, src, sd)
					if what == "" {
						continue
					}
					f := p.Report(in, "%s %s puts %s into a layer; deleting it later does not remove it.", in.Keyword, src, what)
					exposure(f, st, shipped)
				}
			}
		}
	},
}

// contextCopy returns the sources and destination of a COPY or ADD that
// takes files from the build context.
func contextCopy(in *Instruction) (*instructions.SourcesAndDest, bool) {
	switch c := in.Command.(type) {
	case *instructions.CopyCommand:
		if c.From != "" {
			return nil, false // from another stage or image, not the context
		}
		return &c.SourcesAndDest, true
	case *instructions.AddCommand:
		return &c.SourcesAndDest, true
	}
	return nil, false
}

// copiedCredential says what credential a COPY or ADD source brings in,
// or "".
func copiedCredential(dir, src string, sd *instructions.SourcesAndDest) string {
	lower := strings.ToLower(src)
	isPem, isKey := strings.HasSuffix(lower, ".pem"), strings.HasSuffix(lower, ".key")
	byName := credentialPath(src)
	if byName == "" && !isPem {
		if len(sd.SourcePaths) != 1 {
			return ""
		}
		if d := credentialPath(sd.DestPath); d != "" {
			return "a file at " + sd.DestPath + ", " + d
		}
		if v, ok := credentialVarRef(sd.DestPath); ok {
			return "a file at " + sd.DestPath + ", " + credentialFileVars[v]
		}
		return ""
	}
	if found, judged := contentVerdict(dir, src); judged {
		switch {
		case found == "":
			return ""
		case isPem:
			return "a PEM private key"
		}
		return found + " (" + path.Base(src) + ")"
	}
	if (isPem || isKey) && !keyByName(src, sd.DestPath) {
		return ""
	}
	if isPem {
		return "a PEM private key"
	}
	return byName
}

// credentialVarRef reports a destination that is only a credential-file
// variable (`COPY ./config $AWS_CONFIG_FILE`).
func credentialVarRef(dest string) (string, bool) {
	name := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(dest, "$"), "{"), "}")
	_, ok := credentialFileVars[name]
	return name, ok && strings.HasPrefix(dest, "$")
}

// credentialVarFile reports an ENV or ARG that points a tool at a
// credential file which an earlier COPY or ADD of the context brought into
// the image (`COPY . /app` then `ENV GOOGLE_APPLICATION_CREDENTIALS=/app/key.json`).
// When the file is in the build context its content decides, as for a
// COPY of it.
func credentialVarFile(p *Pass, st *Stage, in *Instruction) (string, int) {
	for _, kv := range keyValues(in, in.Keyword) {
		what, ok := credentialFileVars[strings.ToUpper(kv.key)]
		if !ok || kv.value == "" || strings.Contains(kv.value, "$") {
			continue
		}
		target := absPath(workdirAt(st, in), trimQuotes(kv.value))
		by, src := copiedTo(st, in, target)
		if by == nil {
			continue
		}
		if src != "" {
			if found, judged := contentVerdict(p.contextDir(), src); judged && found == "" {
				continue
			}
		}
		return fmt.Sprintf("%s %s points at %s, %s, which `%s` on line %d copies into the image.",
			in.Keyword, kv.key, target, what, instructionText(by), by.Line), p.File.lineOf(in, kv.key)
	}
	return "", 0
}

// copiedTo finds the last COPY or ADD of the context, before upTo in the
// stages st is built from, whose destination holds target, and the
// context path it copies there ("" when the sources do not say).
func copiedTo(st *Stage, upTo *Instruction, target string) (*Instruction, string) {
	var found *Instruction
	src := ""
	for _, s := range st.Chain() {
		for _, in := range s.Instructions {
			if in.Line > upTo.Line {
				break
			}
			sd, ok := contextCopy(in)
			if !ok || len(sd.SourcePaths) == 0 {
				continue
			}
			dest := absPath(workdirAt(s, in), sd.DestPath)
			dirDest := strings.HasSuffix(sd.DestPath, "/") || sd.DestPath == "." || len(sd.SourcePaths) > 1 || isDirSource(sd.SourcePaths[0])
			if target != dest && !(dirDest && strings.HasPrefix(target, strings.TrimSuffix(dest, "/")+"/")) {
				continue
			}
			found, src = in, ""
			rest := strings.TrimPrefix(strings.TrimPrefix(target, strings.TrimSuffix(dest, "/")), "/")
			for _, s := range sd.SourcePaths {
				switch {
				case target == dest && len(sd.SourcePaths) == 1:
					src = s
				case isDirSource(s):
					src = path.Join(s, rest)
				case path.Base(s) == path.Base(target):
					src = s
				}
			}
		}
	}
	return found, src
}

func isDirSource(src string) bool { return src == "." || src == "/" || strings.HasSuffix(src, "/") }

// workdirAt is the absolute WORKDIR in force before in, "/" when none is
// set in the stages st is built from.
func workdirAt(st *Stage, upTo *Instruction) string {
	wd := "/"
	chain := st.Chain()
	for i := len(chain) - 1; i >= 0; i-- {
		for _, in := range chain[i].Instructions {
			if in == upTo || in.Line >= upTo.Line && chain[i] == st {
				break
			}
			if w, ok := in.Command.(*instructions.WorkdirCommand); ok && !strings.Contains(w.Path, "$") {
				wd = absPath(wd, w.Path)
			}
		}
	}
	return wd
}

func absPath(wd, p string) string {
	if strings.HasPrefix(p, "/") {
		return path.Clean(p)
	}
	return path.Join(wd, p)
}

// lineOf is the physical line of an instruction that holds key.
func (f *File) lineOf(in *Instruction, key string) int {
	for l := in.Line; l <= in.EndLine && l <= len(f.Lines); l++ {
		if strings.Contains(f.Lines[l-1], key) {
			return l
		}
	}
	return in.Line
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
			"a URL with a password, or a secret-named variable; in a RUN whose commands dockvet could not analyse (PowerShell or cmd, a script its shell " +
			"refuses, a here-document for another interpreter), a credential anywhere on its lines. The command line is stored in the image history and in the Dockerfile.",
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
			for _, in := range st.Instructions {
				unparsedCredential(p, in)
			}
		}
	},
}

// unparsedCredential reads the lines of a RUN whose commands were not
// analysed (a script its shell refuses, PowerShell or cmd, a here-document
// for another interpreter) with the secret engine: the text is in the
// Dockerfile and the image history all the same, and a syntax error must
// not hide a token.
func unparsedCredential(p *Pass, in *Instruction) {
	if in.Keyword != "RUN" || in.Script != nil {
		return
	}
	for line := in.Line; line <= in.EndLine && line <= len(p.File.Lines); line++ {
		if ms := secrets.Scan(p.File.Lines[line-1]); len(ms) > 0 {
			m := ms[0]
			p.ReportLine(in, line, "RUN holds %s on its command line (%s); its commands were not analysed (%s).", m.Kind(), m.Masked(), notAnalysed(in)).Fingerprint = m.Fingerprint()
		}
	}
}

// notAnalysed says in a few words why a RUN has no Script.
func notAnalysed(in *Instruction) string {
	var se *shell.SyntaxError
	switch {
	case errors.As(in.ScriptErr, &se):
		return "its script does not parse as shell"
	case in.ScriptErr != nil:
		return in.ScriptErr.Error()
	}
	return "it was not read as shell"
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
		Peers:    []string{"AVD-DS-0031"},
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
