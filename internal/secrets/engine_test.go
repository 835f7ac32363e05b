package secrets

import (
	"bytes"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/fuzztest"
	"github.com/dockvet/dockvet/internal/secrets/sample"
)

// TestRules checks every rule value: it builds, its catalog entry is
// valid, and the set is what the issue asked for.
func TestRules(t *testing.T) {
	// The built-in rules are compiled lazily, as scans meet them: a rule
	// set given in Options is built whole, so every expression compiles
	// here.
	if _, err := New(Options{Rules: Rules()}); err != nil {
		t.Fatal(err)
	}
	if len(rules) < 100 {
		t.Errorf("%d secret rules, want at least 100", len(rules))
	}
	idRe := regexp.MustCompile(`^DV7\d{3}$`)
	for _, r := range rules {
		m := r.Meta()
		if err := m.Validate(); err != nil {
			t.Error(err)
		}
		if !idRe.MatchString(r.ID) || m.Practice != finding.PracticeSecrets {
			t.Errorf("%s: ID outside DV7xxx or practice %q", r.ID, m.Practice)
		}
		if r.Description == "" {
			t.Errorf("%s has no description of its format", r.ID)
		}
		for _, k := range r.Keywords {
			if len(k) < minKeyword {
				t.Errorf("%s: keyword %q is too short", r.ID, k)
			}
		}
	}
	if len(Catalog()) != len(rules) {
		t.Error("the catalog does not list every rule")
	}
}

// TestSamples checks each fabricated secret is found by its rule, with the
// exact secret, and masked in every message.
func TestSamples(t *testing.T) {
	e, err := New(Options{Info: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sample.All(99) {
		found := false
		for _, m := range e.ScanBytes([]byte(s.Text), s.Path) {
			if m.Rule.ID != s.RuleID {
				continue
			}
			found = m.Secret == s.Secret
			if !found {
				t.Errorf("%s: secret %q, want %q", s.RuleID, m.Secret, s.Secret)
			}
			msg := m.Describe(s.Path)
			if strings.Contains(msg, s.Secret) || !strings.HasSuffix(m.Masked(), "****") || len(strings.TrimSuffix(m.Masked(), "****")) > 4 {
				t.Errorf("%s: not masked: %q", s.RuleID, msg)
			}
			if m.Line == 0 || m.Column == 0 || s.Text[m.Start:m.End] != m.Secret {
				t.Errorf("%s: bad position %d:%d [%d,%d)", s.RuleID, m.Line, m.Column, m.Start, m.End)
			}
		}
		if !found {
			t.Errorf("%s: %q not found in %s", s.RuleID, s.Secret, s.Path)
		}
	}
}

func TestPosition(t *testing.T) {
	tok := sample.All(7)[0] // any sample: take the first with a one-line secret
	for _, s := range sample.All(7) {
		if s.RuleID == "DV7008" {
			tok = s
		}
	}
	text := "line one\n\tline two\n\tNPM_TOKEN=" + tok.Secret + " # here\n"
	ms := Default().ScanBytes([]byte(text), "")
	if len(ms) != 1 {
		t.Fatalf("got %d matches", len(ms))
	}
	if m := ms[0]; m.Line != 3 || m.Column != len("\tNPM_TOKEN=")+1 || text[m.Start:m.End] != tok.Secret {
		t.Errorf("got line %d column %d, want line 3 column %d", m.Line, m.Column, len("\tNPM_TOKEN=")+1)
	}
}

// TestChunks checks that reading in chunks finds exactly what reading the
// whole input finds, with the same positions, whatever the chunk size.
func TestChunks(t *testing.T) {
	var text bytes.Buffer
	filler := strings.Repeat("a quiet line of configuration: value = 42, token_ttl = 3600\n", 40)
	for _, s := range sample.All(3) {
		if s.Path != "" && (strings.HasSuffix(s.Path, ".pypirc") || strings.HasSuffix(s.Path, ".git-credentials")) {
			continue
		}
		text.WriteString(filler)
		text.WriteString(s.Text)
	}
	data := text.Bytes()
	whole := Default().ScanBytes(data, "big.txt")
	if len(whole) < 100 {
		t.Fatalf("only %d matches in the whole text", len(whole))
	}
	for _, chunk := range []int{1, 7, 100, 4096, 1 << 16} {
		e, _ := New(Options{})
		e.chunk = chunk
		res, err := e.ScanFile(iotest{bytes.NewReader(data)}, "big.txt")
		if err != nil {
			t.Fatal(err)
		}
		if !sameMatches(res.Matches, whole) {
			t.Errorf("chunk %d: %d matches, whole text %d", chunk, len(res.Matches), len(whole))
		}
	}
}

// iotest hands out at most 3 bytes per Read, as a slow pipe would.
type iotest struct{ r io.Reader }

func (r iotest) Read(p []byte) (int, error) { return r.r.Read(p[:min(len(p), 3)]) }

func sameMatches(a, b []Match) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Rule != b[i].Rule || a[i].Start != b[i].Start || a[i].End != b[i].End || a[i].Line != b[i].Line || a[i].Column != b[i].Column {
			return false
		}
	}
	return true
}

func TestContent(t *testing.T) {
	tok := sample.GitHubToken(5)
	line := "GITHUB_TOKEN=" + tok + "\n"
	utf16le := func(s string, bom bool) []byte {
		var b bytes.Buffer
		if bom {
			b.Write([]byte{0xFF, 0xFE})
		}
		for _, u := range utf16.Encode([]rune(s)) {
			binary.Write(&b, binary.LittleEndian, u)
		}
		return b.Bytes()
	}
	for _, tc := range []struct {
		name, path string
		data       []byte
		opts       Options
		found      bool
		mode       string
		skipped    bool
	}{
		{name: "text", data: []byte(line), found: true, mode: "text"},
		{name: "binary", data: append([]byte("\x00\x01\x02ELF"), line...), mode: "binary", skipped: true},
		{name: "UTF-16 with a byte-order mark", data: utf16le(line, true), found: true, mode: "utf-16"},
		{name: "UTF-16 without one", data: utf16le("# settings\r\n"+line, false), found: true, mode: "utf-16"},
		{name: "compiled Python", path: "app/__pycache__/settings.cpython-312.pyc", data: append([]byte{0xcb, 0x0d, 0x0d, 0x0a, 0, 0, 0, 0}, line...), found: true, mode: "strings"},
		{name: "executable, not asked for", path: "usr/local/bin/app", data: append([]byte("\x7fELF\x02\x01\x01\x00"), line...), mode: "binary", skipped: true},
		{name: "executable, asked for", path: "usr/local/bin/app", data: append([]byte("\x7fELF\x02\x01\x01\x00"), line...), opts: Options{Executables: true}, found: true, mode: "strings"},
		{name: "documentation path", path: "/usr/share/doc/app/README", data: []byte(line), skipped: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, _ := New(tc.opts)
			res, err := e.ScanFile(bytes.NewReader(tc.data), tc.path)
			if err != nil {
				t.Fatal(err)
			}
			if (res.Skipped != "") != tc.skipped || res.Mode != tc.mode && !tc.skipped {
				t.Errorf("skipped %q, mode %q", res.Skipped, res.Mode)
			}
			if got := len(res.Matches) == 1 && res.Matches[0].Secret == tok; got != tc.found {
				t.Errorf("found %v (%d matches), want %v", got, len(res.Matches), tc.found)
			}
			if tc.mode == "strings" && tc.found && res.Matches[0].Line != 0 {
				t.Errorf("a line number for printable strings of a binary: %d", res.Matches[0].Line)
			}
			whole := e.ScanBytes(tc.data, tc.path)
			if len(whole) != len(res.Matches) {
				t.Errorf("ScanBytes found %d, ScanFile %d", len(whole), len(res.Matches))
			}
		})
	}
	e, _ := New(Options{})
	if e.SkipReason("usr/share/locale/de/LC_MESSAGES/app.mo") == "" || e.SkipReason("etc/app.conf") != "" {
		t.Error("SkipReason disagrees with DefaultSkipPaths")
	}
	e.ScanBytes([]byte{0, 1, 2}, "x.bin")
	e.ScanBytes([]byte(line), "usr/share/man/man1/x.1")
	if st := e.Stats(); st.SkippedBinary != 1 || st.SkippedPath != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestByteCap(t *testing.T) {
	var tok string
	for _, s := range sample.All(5) {
		if s.RuleID == "DV7008" {
			tok = s.Secret
		}
	}
	data := []byte("A=" + tok + "\n" + strings.Repeat("filler line\n", 100) + "B=" + tok + "\n")
	e, _ := New(Options{MaxBytes: 200})
	e.chunk = 64
	res, err := e.ScanFile(bytes.NewReader(data), "f")
	if err != nil {
		t.Fatal(err)
	}
	if !res.Truncated || res.Bytes != 200 || len(res.Matches) != 1 || res.Matches[0].Line != 1 {
		t.Errorf("truncated %v, bytes %d, %d matches", res.Truncated, res.Bytes, len(res.Matches))
	}
	exact, _ := New(Options{MaxBytes: int64(len(data))})
	if res, _ := exact.ScanFile(bytes.NewReader(data), "f"); res.Truncated || len(res.Matches) != 2 {
		t.Errorf("a file of exactly the cap: truncated %v, %d matches", res.Truncated, len(res.Matches))
	}
}

// TestPlacement checks severities: lowered in vendored and test paths,
// certificates informational and reported only on request.
func TestPlacement(t *testing.T) {
	all := sample.All(11)
	text := map[string]string{}
	for _, s := range all {
		text[s.RuleID] = s.Text
	}
	for _, tc := range []struct {
		path, id string
		sev      finding.Severity
		note     bool
	}{
		{"app/.env", "DV7008", finding.Critical, false},
		{"app/node_modules/lib/test/fixture.env", "DV7008", finding.Low, true},
		{"usr/lib/python3/site-packages/pkg/conf.py", "DV7008", finding.Low, true},
		{"src/app/config_test.go", "DV7008", finding.Low, true},
		{"app/testdata/key.pem", "DV7013", finding.Low, true},
	} {
		ms := Default().ScanBytes([]byte(text[tc.id]), tc.path)
		if len(ms) != 1 || ms[0].Severity != tc.sev || (ms[0].Note != "") != tc.note {
			t.Errorf("%s in %s: %+v", tc.id, tc.path, ms)
		}
	}
	if ms := Default().ScanBytes([]byte(text["DV7023"]), "etc/app/server.crt"); len(ms) != 0 {
		t.Errorf("a certificate was reported by default: %v", ms)
	}
	e, _ := New(Options{Info: true})
	if ms := e.ScanBytes([]byte(text["DV7023"]), "etc/app/server.crt"); len(ms) != 1 || ms[0].Severity != finding.Info {
		t.Errorf("a certificate asked for: %+v", ms)
	}
}

// TestOverlap checks that a specific rule wins the bytes a general one
// also claims.
func TestOverlap(t *testing.T) {
	for _, s := range sample.All(13) {
		switch s.RuleID {
		case "DV7101", "DV7028", "DV7117", "DV7054", "DV7056":
			ms := Default().ScanBytes([]byte(s.Text), s.Path)
			if len(ms) != 1 || ms[0].Rule.ID != s.RuleID {
				var ids []string
				for _, m := range ms {
					ids = append(ids, m.Rule.ID)
				}
				t.Errorf("%s: got %v", s.RuleID, ids)
			}
		}
	}
}

func TestAssignmentPrecheck(t *testing.T) {
	for text, want := range map[string]int{
		`_PASSWORD = x`: 11, `": "x"`: 2, `: x`: 1, `=> x`: 2, `?= x`: 2, `_x := y`: 5, ` x`: -1, `.length > 0`: -1, `\": \"`: 3,
	} {
		if got := valueAt([]byte(text)); got != want {
			t.Errorf("valueAt(%q) = %d, want %d", text, got, want)
		}
	}
	for text, want := range map[string]bool{"=${X}": false, ": e.password,": false, ": <x>": false, "=s3cr3t": true, `: "a.b.c!9"`: true} {
		if got := literalAssignment([]byte(text)); got != want {
			t.Errorf("literalAssignment(%q) = %v", text, got)
		}
	}
	for text, want := range map[string]bool{"u:p@h": true, "h/x@y": false, "u@h": false, "+psycopg2://u:p@h/db": true} {
		if got := urlUserinfo([]byte(text)); got != want {
			t.Errorf("urlUserinfo(%q) = %v", text, got)
		}
	}
}

// FuzzScan feeds arbitrary bytes to the engine: it must not panic, every
// match must be the bytes it claims to be and masked when described, and
// reading in small chunks must find what reading at once finds.
func FuzzScan(f *testing.F) {
	for _, s := range sample.All(17) {
		f.Add([]byte(s.Text), s.Path)
	}
	f.Add([]byte("\xff\xfeA\x00=\x00"), "x")
	f.Add([]byte("password = 'x'\x00\x00"), "a.pyc")
	e, _ := New(Options{Info: true})
	chunked, _ := New(Options{Info: true})
	chunked.chunk = 16
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, data []byte, path string) {
		defer fuzztest.Budget(t)()
		whole := e.ScanBytes(data, path)
		res, err := chunked.ScanFile(bytes.NewReader(data), path)
		if err != nil {
			t.Fatal(err)
		}
		if !sameMatches(whole, res.Matches) {
			t.Fatalf("chunked %d matches, whole %d", len(res.Matches), len(whole))
		}
		for _, m := range whole {
			if res.Mode != "utf-16" && (m.Start < 0 || m.End > len(data) || string(data[m.Start:m.End]) != m.Secret) {
				t.Fatalf("%s: [%d,%d) is not the secret", m.Rule.ID, m.Start, m.End)
			}
			if len(m.Secret) > 8 && strings.Contains(m.Describe(path), m.Secret) {
				t.Fatalf("%s: described unmasked", m.Rule.ID)
			}
			if res.Mode == "text" && (m.Line < 1 || m.Column < 1) {
				t.Fatalf("%s: line %d column %d", m.Rule.ID, m.Line, m.Column)
			}
		}
	})
}

func TestKind(t *testing.T) {
	for title, want := range map[string]string{
		"AWS access key ID": "an AWS access key ID", "RSA private key": "an RSA private key", "GitHub OAuth access token": "a GitHub OAuth access token",
		"npm access token": "an npm access token", "Password in a URL": "a password in a URL", "Encrypted private key (PKCS#8)": "an encrypted private key (PKCS#8)",
		"JSON Web Token": "a JSON Web Token", "SSH2 private key (ssh.com)": "an SSH2 private key (ssh.com)", "age secret key": "an age secret key",
		"OpenAI API key": "an OpenAI API key", "HashiCorp Vault token": "a HashiCorp Vault token",
	} {
		if got := (Match{Rule: &Rule{Rule: finding.Rule{Title: title}}}).Kind(); got != want {
			t.Errorf("Kind of %q = %q, want %q", title, got, want)
		}
	}
}

// TestControlShare compares the word-at-a-time count with the definition,
// byte by byte, on text, binary data and every byte value at every
// alignment.
func TestControlShare(t *testing.T) {
	control := func(b []byte) int {
		n := 0
		for _, c := range b {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v' && c != '\b' && c != 0x1b {
				n++
			}
		}
		return n
	}
	r := rand.New(rand.NewPCG(9, 9))
	inputs := [][]byte{nil, []byte("a"), []byte("line one\n\tline two\r\n"), []byte("\x00\x01\x1f\x20\x7f\x80\xff\x1b\x08")}
	for range 200 {
		b := make([]byte, r.IntN(300))
		for i := range b {
			b[i] = byte(r.IntN(256))
			if r.IntN(3) > 0 {
				b[i] = byte(0x20 + r.IntN(0x60))
			}
		}
		inputs = append(inputs, b)
	}
	for c := range 256 {
		for off := range 9 {
			b := bytes.Repeat([]byte("x"), 17)
			b[off] = byte(c)
			inputs = append(inputs, b)
		}
	}
	for _, b := range inputs {
		if got, want := controlShare(b), float64(control(b))/float64(max(len(b), 1)); got != want {
			t.Fatalf("controlShare(%q) = %v, want %v", b, got, want)
		}
	}
}
