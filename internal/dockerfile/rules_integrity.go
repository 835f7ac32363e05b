package dockerfile

import (
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/shell"
)

var refIntegrity = []string{"https://docs.docker.com/build/building/best-practices/#add-or-copy", "https://slsa.dev/spec/v1.0/threats"}

func isDownloader(c *shell.Command) bool {
	return c.Is("curl", "wget", "fetch", "aria2c", "http", "httpie") ||
		c.Name == "busybox" && len(c.Args) > 0 && c.Args[0] == "wget"
}

var rulePipeToShell = &Rule{
	Rule: finding.Rule{
		ID: "DV1070", Title: "Download piped into a shell", Practice: finding.PracticeContentTrust, Severity: finding.High,
		Surfaces: historySurfaces,
		Description: "A RUN downloads a script and runs it at once (`curl … | sh`, `bash <(curl …)`, `sh -c \"$(wget -O- …)\"`). " +
			"Nothing checks what was downloaded: a compromised server, DNS or proxy runs its code in your build, and a truncated download runs half a script.",
		Remediation: "Download to a file, verify its checksum or signature (`echo \"<sha256>  install.sh\" | sha256sum -c -`), then run it; " +
			"better, install a pinned package or copy the tool from a pinned image.",
		References: refIntegrity,
	},
	Check: func(p *Pass) {
		fedBy := shell.FedBy(isDownloader) // once per file: every command's answer is kept
		for _, st := range p.File.Stages {
			st.Commands(func(in *Instruction, c *shell.Command) {
				if !shell.IsInterpreter(c.Name) {
					return
				}
				if dl := fedBy(c); dl != nil {
					p.ReportCmd(in, c, "`%s` output is run by `%s` without verification.", dl.Name, c.Name)
				}
			})
		}
	},
}

// checksumTools print or check file digests.
var checksumTools = map[string]bool{"sha1sum": true, "sha224sum": true, "sha256sum": true, "sha384sum": true, "sha512sum": true,
	"b2sum": true, "b3sum": true, "shasum": true, "sha3sum": true}

// verifies reports whether a command checks a file's integrity: a digest
// tool checking a list (`sha256sum -c`, `echo "HASH  f" | sha256sum -c -`)
// or whose output is compared (piped into grep, cmp or diff, or taken
// into a test or a variable); a signature check (gpg --verify, gpgv,
// cosign verify-blob, minisign -V, signify -V, openssl dgst -verify, a
// provenance verifier). Printing a digest checks nothing.
func verifies(c *shell.Command) bool {
	switch {
	case checksumTools[c.Name]:
		return c.Has("-c", "--check") || compared(c)
	case c.Name == "gpg" || c.Name == "gpg2":
		// --decrypt checks the signature of signed data; exporting a key by
		// its full fingerprint checks that a downloaded key file holds it.
		return c.Has("--verify", "--decrypt", "-d") || c.Has("--export") && slices.ContainsFunc(c.Args, isFingerprint)
	case c.Name == "gpgv", c.Name == "sigstore-go", c.Name == "slsa-verifier":
		return true
	case c.Name == "cosign":
		sub := c.Subcommand("--key", "--signature", "--certificate", "--bundle")
		return strings.HasPrefix(sub, "verify")
	case c.Name == "minisign" || c.Name == "signify":
		return c.Has("-V") || c.Name == "signify" && c.Has("-C")
	case c.Name == "openssl":
		return c.Subcommand() == "dgst" && (c.Has("-verify", "-prverify") || compared(c))
	case c.Name == "gh":
		pos := c.Positional()
		return len(pos) >= 2 && pos[0] == "attestation" && pos[1] == "verify"
	}
	return false
}

// compared reports whether a digest command's output is compared with
// something: piped into grep, cmp or diff, or substituted into a test or
// an assignment (`[ "$(sha256sum f | cut -c1-64)" = "$SHA" ]`).
func compared(c *shell.Command) bool {
	for x := c; x != nil; x = x.Parent {
		if x.Is("[", "[[", "test", "cmp", "diff") || x != c && x.Name == "" && len(x.Assigns) > 0 {
			return true
		}
	}
	return false
}

// consumesDigest is a command downstream of a digest command that compares
// it: grep, cmp, diff, or a test.
func consumesDigest(x *shell.Command) bool {
	if !x.Is("grep", "egrep", "fgrep", "cmp", "diff", "test", "[") {
		return false
	}
	return x.Feeds(func(u *shell.Command) bool { return checksumTools[u.Name] || u.Name == "openssl" }) != nil
}

// verifier reports a command that is a verification or compares a digest.
func verifier(c *shell.Command) bool { return verifies(c) || consumesDigest(c) }

// downloadsToFile reports whether a downloader writes a file (or feeds an
// unpacker) rather than printing to standard output.
func downloadsToFile(c *shell.Command) bool {
	switch c.Name {
	case "curl":
		if v, ok := c.Value("-o", "--output"); ok && v != "-" && v != "/dev/null" {
			return true
		}
		return c.Has("-O", "--remote-name", "--remote-name-all")
	case "wget":
		if v, ok := c.Value("-O", "--output-document"); ok {
			return v != "-" && v != "/dev/null"
		}
		return !c.Has("--spider", "-q-O-") && len(c.Positional()) > 0
	case "aria2c", "fetch":
		return true
	}
	return false
}

// downloadedFile is the base name of the file a download writes, or "".
func downloadedFile(c *shell.Command) string {
	var name string
	switch c.Name {
	case "curl":
		name, _ = c.Value("-o", "--output")
	case "wget":
		name, _ = c.Value("-O", "--output-document")
	case "aria2c":
		name, _ = c.Value("-o", "--out")
	}
	if name == "" {
		if u := downloadTarget(c); strings.Contains(u, "://") {
			name = u
			if i := strings.IndexAny(name, "?#"); i >= 0 {
				name = name[:i]
			}
		}
	}
	name = path.Base(name)
	if name == "." || name == "/" || strings.Contains(name, "$") {
		return ""
	}
	return name
}

// mentions reports whether a command refers to a file by its base name:
// an argument naming it, or a string holding it ("HASH  tool.tgz").
func mentions(c *shell.Command, file string) bool {
	for _, a := range c.Args {
		if path.Base(a) == file || strings.HasSuffix(a, " "+file) || strings.HasSuffix(a, "*"+file) || strings.HasSuffix(a, "/"+file) {
			return true
		}
	}
	return false
}

// verificationFile reports the name of a checksum list or a detached
// signature (app.tgz.sha256, SHA256SUMS, app.tgz.asc, app.minisig). An
// .asc or .sig is a signature of the file it extends (app.tgz.asc); a bare
// key.asc is a key, which is used to verify and so is checked itself.
func verificationFile(name string) bool {
	n := strings.ToLower(name)
	for _, s := range []string{".sha1", ".sha256", ".sha512", ".sha256sum", ".sha512sum", ".sha1sum", ".md5", ".minisig", ".sigstore", ".sigstore.json"} {
		if strings.HasSuffix(n, s) {
			return true
		}
	}
	for _, s := range []string{".asc", ".sig"} {
		if strings.HasSuffix(n, s) && strings.Contains(strings.TrimSuffix(n, s), ".") {
			return true
		}
	}
	return strings.HasPrefix(n, "sha256sums") || strings.HasPrefix(n, "sha512sums") || strings.HasPrefix(n, "shasums") || n == "checksums.txt"
}

var fingerprint = regexp.MustCompile(`^(0x)?[0-9A-Fa-f]{40}$`)

func isFingerprint(a string) bool { return fingerprint.MatchString(strings.ReplaceAll(a, " ", "")) }

// neutral reports a command that names a file without using its content:
// writing a checksum line that mentions it, moving, removing or listing
// it, importing a key file into a keyring that nothing trusts yet.
func neutral(x *shell.Command) bool {
	switch x.Name {
	case "echo", "printf", "rm", "mv", "cp", "ln", "chmod", "chown", "ls", "stat", "mkdir", "touch":
		return true
	case "gpg", "gpg2":
		return x.Has("--import", "--dearmor", "--enarmor", "--list-keys", "--list-packets", "--show-keys", "-k")
	}
	return false
}

// checkedBeforeUse walks commands in order: checked when a verification
// comes before any other command that uses file (any command that unpacks,
// when the file's name is unknown), used when such a command comes first.
// Commands that only feed a verification (`echo "HASH  f" | sha256sum -c
// -`) are part of it; downloading the same name again replaces the file.
func checkedBeforeUse(cmds []*shell.Command, file string) (checked, used bool) {
	// The commands piped into a verification, found in one pass: asking
	// each command whether some verification reads it was quadratic.
	feedCheck := map[*shell.Command]bool{}
	for _, y := range cmds {
		if len(y.Upstream) > 0 && verifier(y) {
			for _, x := range y.Upstream {
				feedCheck[x] = true
			}
		}
	}
	for _, x := range cmds {
		if verifier(x) {
			return true, false
		}
		switch feedsCheck := feedCheck[x]; {
		case feedsCheck, neutral(x):
		case isDownloader(x):
			if file != "" && downloadedFile(x) == file {
				return false, true
			}
		case file == "" && unpackers[x.Name], file != "" && mentions(x, file):
			return false, true
		}
	}
	return false, false
}

var unpackers = map[string]bool{"tar": true, "unzip": true, "gunzip": true, "bsdtar": true, "dpkg": true, "rpm": true, "install": true, "xz": true, "bunzip2": true, "zstd": true, "cpio": true}

var ruleNoChecksum = &Rule{
	Rule: finding.Rule{
		ID: "DV1071", Title: "Download without checksum verification", Practice: finding.PracticeContentTrust, Severity: finding.Medium, CIS: "4.11",
		Surfaces: historySurfaces,
		Description: "A RUN downloads a file or archive and it is used without a checksum or signature being checked first, in that RUN or a later RUN of the stage. " +
			"If the server, a mirror or the connection is compromised, the build silently takes whatever it was given.",
		Remediation: "Verify what you download before using it: `curl -fsSLo app.tgz URL && echo \"<sha256>  app.tgz\" | sha256sum -c - && tar xzf app.tgz`, " +
			"or use `ADD --checksum=sha256:… URL`.",
		References: refIntegrity,
	},
	Check: func(p *Pass) {
		for _, st := range p.File.Stages {
			var runs []*Instruction
			st.Runs(func(in *Instruction) { runs = append(runs, in) })
			for ri, in := range runs {
				var unpacked map[*shell.Command]bool
				for _, c := range in.Script.Commands {
					if !isDownloader(c) {
						continue
					}
					if unpacked == nil {
						unpacked = feedUnpackers(in.Script.Commands)
					}
					if unpacked[c] || !verifiedDownload(c, in, runs[ri+1:]) {
						p.ReportCmd(in, c, "`%s` downloads %s and nothing verifies a checksum or signature before it is used.", c.Name, downloadTarget(c))
						break
					}
				}
			}
		}
	},
}

// verifiedDownload reports whether a download is verified before use, or
// is not a file at all (printed, or piped into something that is not an
// unpacker). A download piped into an unpacker is used before anything
// can check it; a file is checked in the same RUN or, when this RUN leaves
// it alone, in the first later RUN of the stage that uses it.
//
// A download that feeds an unpacker (feedUnpackers) is not verified; the
// caller asks that first.
func verifiedDownload(c *shell.Command, in *Instruction, later []*Instruction) bool {
	cmds := in.Script.Commands
	if !downloadsToFile(c) {
		return true
	}
	file := downloadedFile(c)
	if verificationFile(file) {
		return true // a checksum or signature is what verifies, not what is verified
	}
	checked, used := checkedBeforeUse(cmds[c.Index+1:], file)
	if checked || used || file == "" {
		return checked
	}
	// Only a later RUN that names the file can check or use it.
	for _, l := range later {
		if !slices.ContainsFunc(l.Script.Commands, func(x *shell.Command) bool { return mentions(x, file) || downloadedFile(x) == file }) {
			continue
		}
		checked, _ := checkedBeforeUse(l.Script.Commands, file)
		return checked
	}
	return false
}

// feedUnpackers returns the commands whose output reaches an unpacker
// through pipes and substitutions, in one walk over the links of a
// script: every download asking Feeds of every unpacker was cubic in a
// hostile RUN of many of both.
func feedUnpackers(cmds []*shell.Command) map[*shell.Command]bool {
	seen := map[*shell.Command]bool{}
	var stack []*shell.Command
	for _, x := range cmds {
		if unpackers[x.Name] {
			stack = append(stack, x)
		}
	}
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, list := range [][]*shell.Command{x.Upstream, x.Substituted} {
			for _, src := range list {
				if !seen[src] {
					seen[src] = true
					stack = append(stack, src)
				}
			}
		}
	}
	return seen
}

func downloadTarget(c *shell.Command) string {
	for _, a := range c.Positional("-o", "-O", "--output", "--output-document", "-H", "--header", "-u", "--user", "-A", "-e", "--retry", "-m", "--max-time", "-w") {
		if strings.Contains(a, "://") {
			return a
		}
	}
	return "a file"
}

var ruleAddURL = &Rule{
	Rule: finding.Rule{
		ID: "DV1072", Title: "ADD of a remote URL without a checksum", Practice: finding.PracticeContentTrust, Severity: finding.Medium, CIS: "4.9",
		Surfaces: historySurfaces,
		Description: "ADD fetches a URL (or Git repository) at build time and takes whatever the server returns. Without `--checksum` " +
			"(or a pinned commit for Git), a changed or compromised file enters the image unnoticed.",
		Remediation: "Add `--checksum=sha256:<digest>` to ADD (Dockerfile syntax 1.6+), pin Git sources to a commit (`#<sha>`), " +
			"or download with curl and verify in a RUN.",
		References: []string{"https://docs.docker.com/reference/dockerfile/#add---checksum"},
	},
	Check: func(p *Pass) {
		for _, st := range p.File.Stages {
			for _, in := range st.Instructions {
				a, ok := in.Command.(*instructions.AddCommand)
				if !ok || a.Checksum != "" {
					continue
				}
				for _, src := range a.SourcePaths {
					if !strings.Contains(src, "://") && !strings.HasPrefix(src, "git@") {
						continue
					}
					if gitPinned(src) {
						continue
					}
					p.Report(in, "ADD %s downloads without a checksum.", src)
				}
			}
		}
	},
}

var commitRef = regexp.MustCompile(`#[0-9a-f]{40}(?::|$)`)

func gitPinned(src string) bool {
	return (strings.HasSuffix(strings.SplitN(src, "#", 2)[0], ".git") || strings.HasPrefix(src, "git@")) && commitRef.MatchString(src)
}

// tlsOff lists what in a command turns TLS verification off.
func tlsOff(c *shell.Command) string {
	for _, a := range c.Assigns {
		if w := envTLSOff(a.Name, a.Value); w != "" {
			return w
		}
	}
	pos := c.Positional()
	switch c.Name {
	case "curl":
		if c.Has("-k", "--insecure", "--proxy-insecure") {
			return "curl -k/--insecure"
		}
	case "wget":
		if c.Has("--no-check-certificate") {
			return "wget --no-check-certificate"
		}
	case "pip", "pip3":
		if c.Has("--trusted-host") {
			return "pip --trusted-host"
		}
	case "npm", "yarn", "pnpm":
		if len(pos) >= 3 && pos[0] == "config" && pos[1] == "set" && strings.Contains(strings.ToLower(pos[2]), "strict-ssl") &&
			(len(pos) < 4 || pos[3] == "false") {
			return c.Name + " config set strict-ssl false"
		}
		if v, ok := c.Value("--strict-ssl"); ok && v == "false" {
			return c.Name + " --strict-ssl=false"
		}
	case "git":
		for _, a := range c.Args {
			if strings.EqualFold(strings.ReplaceAll(a, " ", ""), "http.sslVerify=false") {
				return "git http.sslVerify=false"
			}
		}
		if len(pos) >= 3 && pos[0] == "config" && strings.EqualFold(pos[len(pos)-2], "http.sslVerify") && pos[len(pos)-1] == "false" {
			return "git config http.sslVerify false"
		}
	case "helm", "kubectl", "oc":
		if c.Has("--insecure-skip-tls-verify") {
			return c.Name + " --insecure-skip-tls-verify"
		}
	case "conda":
		if len(pos) >= 1 && c.Has("--set") && containsPair(c.Args, "ssl_verify", "false") {
			return "conda ssl_verify false"
		}
	case "yum", "dnf", "microdnf":
		if v, ok := c.Value("--setopt"); ok && strings.EqualFold(strings.ReplaceAll(v, " ", ""), "sslverify=false") || ok && v == "sslverify=0" {
			return c.Name + " --setopt=sslverify=false"
		}
	}
	return ""
}

func containsPair(args []string, k, v string) bool {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == k && args[i+1] == v {
			return true
		}
	}
	return false
}

// envTLSOff recognises environment variables that turn TLS verification off.
func envTLSOff(name, value string) string {
	v := strings.ToLower(strings.Trim(value, `"'`))
	truthy := v != "" && v != "0" && v != "false" && v != "no"
	switch strings.ToUpper(name) {
	case "GIT_SSL_NO_VERIFY":
		if truthy {
			return "GIT_SSL_NO_VERIFY=" + value
		}
	case "NODE_TLS_REJECT_UNAUTHORIZED":
		if v == "0" {
			return "NODE_TLS_REJECT_UNAUTHORIZED=0"
		}
	case "PYTHONHTTPSVERIFY":
		if v == "0" {
			return "PYTHONHTTPSVERIFY=0"
		}
	case "PIP_TRUSTED_HOST":
		if v != "" {
			return "PIP_TRUSTED_HOST=" + value
		}
	case "NPM_CONFIG_STRICT_SSL", "YARN_STRICT_SSL", "npm_config_strict_ssl":
		if v == "false" || v == "0" {
			return name + "=" + value
		}
	case "GOINSECURE":
		if v != "" {
			return "GOINSECURE=" + value
		}
	case "CURL_INSECURE", "HELM_INSECURE_SKIP_TLS_VERIFY":
		if truthy {
			return name + "=" + value
		}
	}
	return ""
}

var ruleTLSRun = &Rule{
	Rule: finding.Rule{
		ID: "DV1073", Title: "TLS verification disabled in RUN", Practice: finding.PracticeContentTrust, Severity: finding.High, CIS: "4.11",
		Surfaces: historySurfaces,
		Description: "A build step turns off certificate verification (`curl -k`, `wget --no-check-certificate`, `pip --trusted-host`, " +
			"`git -c http.sslVerify=false`, `npm config set strict-ssl false`, …). Anyone on the network path can then serve the build their own code.",
		Remediation: "Keep TLS verification on. If a private CA is needed, add its certificate to the image's trust store (`COPY ca.crt /usr/local/share/ca-certificates/ && update-ca-certificates`).",
		References:  refIntegrity,
	},
	Check: func(p *Pass) {
		for _, st := range p.File.Stages {
			st.Commands(func(in *Instruction, c *shell.Command) {
				if w := tlsOff(c); w != "" {
					p.ReportCmd(in, c, "%s turns off TLS certificate verification.", w)
				}
			})
		}
	},
}

var ruleTLSEnv = &Rule{
	Rule: finding.Rule{
		ID: "DV1074", Title: "TLS verification disabled by ENV", Practice: finding.PracticeContentTrust, Severity: finding.High, CIS: "4.11",
		Surfaces: historySurfaces,
		Description: "An ENV sets a variable that turns off certificate verification (GIT_SSL_NO_VERIFY, NODE_TLS_REJECT_UNAUTHORIZED=0, PYTHONHTTPSVERIFY=0, " +
			"PIP_TRUSTED_HOST, NPM_CONFIG_STRICT_SSL=false, GOINSECURE). It applies to every later build step and to the running container.",
		Remediation: "Remove the variable; trust a private CA by installing its certificate instead.",
		References:  refIntegrity,
	},
	Check: func(p *Pass) {
		for _, st := range p.File.Stages {
			for _, in := range st.Instructions {
				if e, ok := in.Command.(*instructions.EnvCommand); ok {
					for _, kv := range e.Env {
						if w := envTLSOff(kv.Key, kv.Value); w != "" {
							p.Report(in, "ENV %s turns off TLS certificate verification for every later step and the container.", w)
						}
					}
				}
			}
		}
	},
}

// sigOff lists what in a command turns package signature checks off.
func sigOff(c *shell.Command) string {
	switch c.Name {
	case "apt-get", "apt":
		if c.Has("--allow-unauthenticated", "--force-yes", "--allow-insecure-repositories") {
			return c.Name + " --allow-unauthenticated/--force-yes"
		}
		for _, a := range c.Args {
			l := strings.ToLower(a)
			if strings.Contains(l, "allowunauthenticated=true") || strings.Contains(l, "allow-insecure=yes") || strings.Contains(l, "allowinsecurerepositories=true") {
				return c.Name + " -o " + a
			}
		}
	case "apk":
		if c.Has("--allow-untrusted") {
			return "apk --allow-untrusted"
		}
	case "yum", "dnf", "microdnf", "tdnf", "zypper":
		if c.Has("--nogpgcheck", "--no-gpg-checks") {
			return c.Name + " --nogpgcheck"
		}
		if v, ok := c.Value("--setopt"); ok && strings.Contains(strings.ReplaceAll(strings.ToLower(v), " ", ""), "gpgcheck=0") {
			return c.Name + " --setopt=" + v
		}
	case "rpm":
		if c.Has("--nosignature", "--nodigest", "--noverify", "--nofiledigest") {
			return "rpm --nosignature/--nodigest"
		}
	case "dpkg":
		if v, ok := c.Value("--force"); ok && strings.Contains(v, "bad-verify") {
			return "dpkg --force-bad-verify"
		}
		if c.Has("--force-bad-verify") {
			return "dpkg --force-bad-verify"
		}
	case "gem":
		if v, ok := c.Value("-P", "--trust-policy"); ok && strings.EqualFold(v, "NoSecurity") {
			return "gem --trust-policy NoSecurity"
		}
	}
	if trustedSource(c) != "" {
		return "an apt source marked [trusted=yes]"
	}
	for _, a := range c.Assigns {
		if w := envSigOff(a.Name, a.Value); w != "" {
			return w
		}
	}
	return ""
}

// trustedSource returns the apt source line a command writes with
// [trusted=yes] (`echo "deb [trusted=yes] http://…" > /etc/apt/sources.list.d/x.list`).
func trustedSource(c *shell.Command) string {
	if c.Name != "echo" && c.Name != "printf" {
		return ""
	}
	for _, r := range c.Redirects {
		if !strings.Contains(r.Target, "sources.list") {
			continue
		}
		for _, a := range c.Args {
			if strings.Contains(strings.ReplaceAll(a, " ", ""), "trusted=yes") {
				return a
			}
		}
	}
	return ""
}

// localRepo reports an apt source line naming a repository on the
// builder's own filesystem (file: or copy:), not a remote server.
func localRepo(line string) bool {
	for _, f := range strings.Fields(line) {
		if strings.HasPrefix(f, "file:") || strings.HasPrefix(f, "copy:") {
			return true
		}
	}
	return false
}

func envSigOff(name, value string) string {
	v := strings.ToLower(strings.Trim(value, `"'`))
	switch strings.ToUpper(name) {
	case "GOSUMDB":
		if v == "off" {
			return "GOSUMDB=off"
		}
	case "GONOSUMCHECK", "GONOSUMDB":
		if v == "*" || v == "1" {
			return name + "=" + value
		}
	case "GOFLAGS":
		if strings.Contains(v, "-insecure") {
			return "GOFLAGS=" + value
		}
	}
	return ""
}

var ruleSignaturesOff = &Rule{
	Rule: finding.Rule{
		ID: "DV1075", Title: "Package signature checks disabled", Practice: finding.PracticeContentTrust, Severity: finding.High, CIS: "4.11",
		Surfaces: historySurfaces,
		Description: "Packages are installed with signature or digest verification turned off (`apt-get --allow-unauthenticated`, `apk --allow-untrusted`, " +
			"`yum/dnf --nogpgcheck`, `rpm --nosignature`, `[trusted=yes]` apt sources, `GOSUMDB=off`). Tampered packages install without a warning. " +
			"A `[trusted=yes]` source on the builder's own filesystem (`file:`), such as packages the same RUN built, is reported at low severity.",
		Remediation: "Import the repository's signing key (`apt-key`-free: a keyring in /etc/apt/keyrings and `signed-by=`; `rpm --import`; an apk key in /etc/apk/keys) and keep verification on.",
		References:  refIntegrity,
	},
	Check: func(p *Pass) {
		for _, st := range p.File.Stages {
			st.Commands(func(in *Instruction, c *shell.Command) {
				if src := trustedSource(c); src != "" && localRepo(src) {
					// Packages the build made itself (dpkg-scanpackages over a
					// directory of the builder): nothing was fetched to verify.
					built := ""
					if anyIn(in, func(x *shell.Command) bool { return x.Is("dpkg-scanpackages", "apt-ftparchive", "reprepro") }) {
						built = " built by this RUN"
					}
					f := p.ReportCmd(in, c, "A local file: apt repository%s is marked [trusted=yes]; its packages come from the build, not a remote source, but apt checks no signature.", built)
					f.Severity = finding.Low
					return
				}
				if w := sigOff(c); w != "" {
					p.ReportCmd(in, c, "%s installs packages without verifying their signatures.", w)
				}
			})
			for _, in := range st.Instructions {
				if e, ok := in.Command.(*instructions.EnvCommand); ok {
					for _, kv := range e.Env {
						if w := envSigOff(kv.Key, kv.Value); w != "" {
							p.Report(in, "ENV %s turns off checksum verification of downloaded modules.", w)
						}
					}
				}
			}
		}
	},
}

// plainIndex lists what in a command fetches packages over plain HTTP.
func plainIndex(c *shell.Command) string {
	isHTTP := func(v string) bool { return strings.HasPrefix(strings.ToLower(v), "http://") && !loopbackURL(v) }
	switch {
	case c.Name == "pip" || strings.HasPrefix(c.Name, "pip3"):
		for _, o := range []string{"-i", "--index-url", "--extra-index-url", "-f", "--find-links"} {
			if v, ok := c.Value(o); ok && isHTTP(v) {
				return "pip " + o + " " + v
			}
		}
	case c.Name == "npm" || c.Name == "yarn" || c.Name == "pnpm":
		if v, ok := c.Value("--registry"); ok && isHTTP(v) {
			return c.Name + " --registry " + v
		}
		pos := c.Positional()
		if len(pos) >= 4 && pos[0] == "config" && pos[1] == "set" && strings.HasSuffix(pos[2], "registry") && isHTTP(pos[3]) {
			return c.Name + " config set " + pos[2] + " " + pos[3]
		}
	case c.Name == "gem":
		if v, ok := c.Value("--source", "-s"); ok && isHTTP(v) {
			return "gem --source " + v
		}
	}
	for _, a := range c.Assigns {
		if w := envPlainIndex(a.Name, a.Value); w != "" {
			return w
		}
	}
	return ""
}

func loopbackURL(v string) bool {
	l := strings.ToLower(v)
	return strings.HasPrefix(l, "http://localhost") || strings.HasPrefix(l, "http://127.") || strings.HasPrefix(l, "http://[::1]")
}

func envPlainIndex(name, value string) string {
	v := strings.Trim(value, `"'`)
	switch strings.ToUpper(name) {
	case "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "NPM_CONFIG_REGISTRY", "YARN_REGISTRY", "GOPROXY", "UV_INDEX_URL", "POETRY_REPOSITORIES":
		for _, part := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == '|' || r == ' ' }) {
			if strings.HasPrefix(strings.ToLower(part), "http://") && !loopbackURL(part) {
				return name + "=" + v
			}
		}
	}
	return ""
}

var rulePlainIndex = &Rule{
	Rule: finding.Rule{
		ID: "DV1076", Title: "Packages fetched from an index over plain HTTP", Practice: finding.PracticeContentTrust, Severity: finding.Medium, CIS: "4.11",
		Surfaces: historySurfaces,
		Description: "pip, npm, gem or Go fetch packages from an `http://` index. Language package managers do not sign packages by default, " +
			"so without TLS anyone on the path can replace them.",
		Remediation: "Use the index's https:// URL; for an internal mirror, give it a certificate from your CA.",
		References:  refIntegrity,
	},
	Check: func(p *Pass) {
		for _, st := range p.File.Stages {
			st.Commands(func(in *Instruction, c *shell.Command) {
				if w := plainIndex(c); w != "" {
					p.ReportCmd(in, c, "%s fetches packages over plain HTTP.", w)
				}
			})
			for _, in := range st.Instructions {
				if e, ok := in.Command.(*instructions.EnvCommand); ok {
					for _, kv := range e.Env {
						if w := envPlainIndex(kv.Key, kv.Value); w != "" {
							p.Report(in, "ENV %s makes later installs fetch packages over plain HTTP.", w)
						}
					}
				}
			}
		}
	},
}
