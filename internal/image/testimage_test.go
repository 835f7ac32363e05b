package image

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docker/go-units"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/dockvet/dockvet/internal/ruletest"
	"github.com/dockvet/dockvet/internal/secrets/sample"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/policy"
	"github.com/dockvet/dockvet/internal/secrets"
)

// A test image is described in a small text format (testdata/rules/*.img),
// built into a real image with go-containerregistry, written as a
// docker-archive and audited. Lines:
//
//	config user NAME | config user            (no user)
//	config env K=V | config label K=V | config expose 22/tcp
//	config healthcheck CMD … | config nohealthcheck | config created RFC3339
//	history CREATED_BY                        an empty-layer history entry
//	layer CREATED_BY                          starts a layer (and its history entry)
//	file PATH MODE [uid=N] [gid=N] [size=N] [@privatekey] [@cert] [@secret=RULE] [@binary] [text=…]
//	                                          (@secret appends the secret package's
//	                                          sample of RULE; @binary puts a NUL first)
//	| content line                            appended to the last file
//	dir PATH MODE | link PATH TARGET | hardlink PATH TARGET
//	whiteout PATH | opaque DIR | device PATH c|b | fifo PATH | raw NAME MODE
//	name REF | settings wasted=SIZE large=SIZE layers=N trusted=PATTERN secretcap=SIZE secrets=off
//
// The expectations are internal/ruletest annotations (`# want ID "message
// regexp"`, `# ok ID`) at the end of the line a finding belongs to:
//
//   - a finding at a file of a layer: the line that put that file in that
//     layer; at a line of the file (an account in /etc/passwd), the
//     content line ("| …") it is on, when the file's content is written
//     out that way;
//   - a finding at a layer, or at a path no entry of that layer names (a
//     cache directory): the layer's line;
//   - a finding at a history entry (Location.Path "history[N]"): the
//     history or layer line that made entry N;
//   - a finding about the image as a whole (no path, no layer): a want
//     on any config, name or settings line.
//
// An annotation on a content line is not part of the file's content.

// entryKey names a layer entry: its displayed path and its layer.
type entryKey struct {
	path  string
	layer int
}

type tentry struct {
	hdr  tar.Header
	body []byte
}

type spec struct {
	cfg       v1.Config
	created   time.Time
	name      string
	layers    [][]tentry
	createdBy []string
	// empty history entries before layer i (len(layers) for after the last)
	emptyBefore map[int][]string
	settings    Settings
	trusted     []string
	// secretCap is the secret engine's byte cap (its default when 0);
	// noSecrets turns the secret scan off.
	secretCap int64
	noSecrets bool
	where     placement
}

// placement is where in the .img file each part of the image was written,
// to place findings at the line they belong to.
type placement struct {
	entry   map[entryKey]int   // the line of each entry (the last, for a path written twice)
	content map[entryKey][]int // the content lines of a file written with "| …"
	layer   []int              // the line of each layer
	// emptyBefore holds the lines of the empty-layer history entries
	// before layer i; history is the line of every history entry, in the
	// order of the image's history.
	emptyBefore map[int][]int
	history     []int
	whole       map[int]bool // config, name and settings lines
}

func parseSpec(t testing.TB, src string) *spec {
	t.Helper()
	s := &spec{emptyBefore: map[int][]string{}}
	s.where = placement{entry: map[entryKey]int{}, content: map[entryKey][]int{}, emptyBefore: map[int][]int{}, whole: map[int]bool{}}
	var lastKey entryKey
	lastContent := false
	s.cfg.User = "10001"
	s.cfg.Healthcheck = &v1.HealthConfig{Test: []string{"CMD", "/app", "healthcheck"}}
	var last *tentry
	sc := bufio.NewScanner(strings.NewReader(src))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.HasPrefix(line, "| ") || line == "|" {
			if last == nil || !lastContent {
				t.Fatalf("line %d: content without a file", n)
			}
			if m := annotationRe.FindStringIndex(line); m != nil {
				line = strings.TrimRight(line[:m[0]], " \t")
			}
			last.body = append(last.body, strings.TrimPrefix(strings.TrimPrefix(line, "|"), " ")+"\n"...)
			s.where.content[lastKey] = append(s.where.content[lastKey], n)
			continue
		}
		if strings.HasPrefix(strings.TrimSpace(line), "#") || strings.TrimSpace(line) == "" {
			continue
		}
		text := line
		if m := annotationRe.FindStringIndex(line); m != nil {
			text = line[:m[0]]
		}
		f := strings.Fields(text)
		if len(f) == 0 {
			t.Fatalf("line %d: empty", n)
		}
		layer := len(s.layers) - 1
		var lpath string
		isEntry := false
		arg := func(i int) string {
			if i >= len(f) {
				t.Fatalf("line %d: missing argument %d", n, i)
			}
			return f[i]
		}
		rest := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(text), f[0]))
		addEntry := func(h tar.Header, body []byte) {
			if layer < 0 {
				t.Fatalf("line %d: entry before any layer", n)
			}
			s.layers[layer] = append(s.layers[layer], tentry{hdr: h, body: body})
			last = &s.layers[layer][len(s.layers[layer])-1]
			isEntry = true
		}
		switch f[0] {
		case "config":
			s.config(t, n, arg(1), strings.TrimSpace(strings.TrimPrefix(rest, f[1])))
			s.where.whole[n] = true
		case "history":
			s.emptyBefore[len(s.layers)] = append(s.emptyBefore[len(s.layers)], rest)
			s.where.emptyBefore[len(s.layers)] = append(s.where.emptyBefore[len(s.layers)], n)
		case "layer":
			s.layers = append(s.layers, nil)
			s.createdBy = append(s.createdBy, rest)
			s.where.layer = append(s.where.layer, n)
		case "name":
			s.name = arg(1)
			s.where.whole[n] = true
		case "settings":
			s.where.whole[n] = true
			for _, kv := range f[1:] {
				k, v, _ := strings.Cut(kv, "=")
				switch k {
				case "wasted":
					s.settings.WastedBytes = mustSize(t, v)
				case "large":
					s.settings.LargeImage = mustSize(t, v)
				case "layers":
					s.settings.ManyLayers, _ = strconv.Atoi(v)
				case "trusted":
					s.trusted = append(s.trusted, v)
				case "secretcap":
					s.secretCap = mustSize(t, v)
				case "secrets":
					s.noSecrets = v == "off"
				default:
					t.Fatalf("line %d: unknown setting %s", n, k)
				}
			}
		case "file", "raw":
			h := tar.Header{Typeflag: tar.TypeReg, Name: entryName(arg(1), f[0] == "raw"), Mode: mode(t, arg(2))}
			var body []byte
			opts := f[3:]
			if i := strings.Index(text, " text="); i >= 0 {
				body = []byte(strings.ReplaceAll(strings.TrimSpace(text[i+6:]), "\\n", "\n"))
				opts = strings.Fields(text[:i])[3:]
			}
			for _, opt := range opts {
				switch k, v, _ := strings.Cut(opt, "="); {
				case k == "uid":
					h.Uid, _ = strconv.Atoi(v)
				case k == "gid":
					h.Gid, _ = strconv.Atoi(v)
				case k == "size":
					body = filler(int(mustSize(t, v)))
				case opt == "@privatekey":
					body = []byte(fakePrivateKey(t, arg(1)))
				case opt == "@cert":
					body = []byte(fakeCertificate())
				case k == "@secret":
					body = append(body, sampleSecret(t, v)...)
				case opt == "@binary":
					body = append([]byte{0}, body...)
				default:
					t.Fatalf("line %d: unknown file option %s", n, opt)
				}
			}
			lpath = arg(1)
			addEntry(h, body)
		case "dir":
			lpath = arg(1)
			addEntry(tar.Header{Typeflag: tar.TypeDir, Name: entryName(arg(1), false) + "/", Mode: mode(t, arg(2))}, nil)
		case "link":
			lpath = arg(1)
			addEntry(tar.Header{Typeflag: tar.TypeSymlink, Name: entryName(arg(1), false), Linkname: arg(2), Mode: 0o777}, nil)
		case "hardlink":
			lpath = arg(1)
			addEntry(tar.Header{Typeflag: tar.TypeLink, Name: entryName(arg(1), false), Linkname: entryName(arg(2), false), Mode: 0o755}, nil)
		case "whiteout":
			addEntry(tar.Header{Typeflag: tar.TypeReg, Name: entryName(filepath.Dir(arg(1)), false) + "/.wh." + filepath.Base(arg(1)), Mode: 0o644}, nil)
		case "opaque":
			addEntry(tar.Header{Typeflag: tar.TypeReg, Name: entryName(arg(1), false) + "/.wh..wh..opq", Mode: 0o644}, nil)
		case "device":
			typ := byte(tar.TypeChar)
			if arg(2) == "b" {
				typ = tar.TypeBlock
			}
			lpath = arg(1)
			addEntry(tar.Header{Typeflag: typ, Name: entryName(arg(1), false), Mode: 0o660, Devmajor: 8}, nil)
		case "fifo":
			lpath = arg(1)
			addEntry(tar.Header{Typeflag: tar.TypeFifo, Name: entryName(arg(1), false), Mode: 0o644}, nil)
		default:
			t.Fatalf("line %d: unknown directive %q", n, f[0])
		}
		if f[0] == "raw" {
			p, _ := cleanName(arg(1))
			lpath = p
		}
		lastContent = false
		if isEntry {
			lastKey = entryKey{display(lpath), layer}
			s.where.entry[lastKey] = n
			delete(s.where.content, lastKey)
			lastContent = f[0] == "file" && len(last.body) == 0
		}
	}
	for i := range s.layers {
		s.where.history = append(append(s.where.history, s.where.emptyBefore[i]...), s.where.layer[i])
	}
	s.where.history = append(s.where.history, s.where.emptyBefore[len(s.layers)]...)
	return s
}

// entryName writes a path as image builders do: relative, no leading "/".
func entryName(p string, raw bool) string {
	if raw {
		return p
	}
	return strings.TrimPrefix(p, "/")
}

func mode(t testing.TB, s string) int64 {
	m, err := strconv.ParseInt(s, 8, 64)
	if err != nil {
		t.Fatalf("bad mode %q", s)
	}
	return m
}

func mustSize(t testing.TB, s string) int64 {
	n, err := units.RAMInBytes(s)
	if err != nil {
		t.Fatalf("bad size %q", s)
	}
	return n
}

// filler is deterministic content that compresses like real files do.
func filler(n int) []byte {
	r := rand.New(rand.NewPCG(uint64(n), 7))
	b := make([]byte, n)
	const alphabet = "abcdefghijklmn \n"
	for i := 0; i < n; i += 16 {
		v := r.Uint64()
		for j := i; j < min(i+16, n); j++ {
			b[j] = alphabet[v&15]
			v >>= 4
		}
	}
	return b
}

// fakePrivateKey is a fabricated PEM RSA private key with a real key's
// structure (the secret engine checks that a key body decodes as a key),
// from the secrets package's sample generator: never a key in use.
func fakePrivateKey(t testing.TB, seed string) string {
	t.Helper()
	for _, s := range sample.All(uint64(len(seed))) {
		if s.RuleID == "DV7013" {
			return s.Text
		}
	}
	t.Fatal("the secrets sample generator has no RSA private key (DV7013)")
	return ""
}

// sampleSecret is the secrets package's fabricated secret for a rule, in
// the text it is typically found in.
func sampleSecret(t testing.TB, id string) string {
	for _, s := range sample.All(1) {
		if s.RuleID == id {
			return s.Text
		}
	}
	t.Fatalf("no sample secret for %s", id)
	return ""
}

func fakeCertificate() string {
	return "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUKdRj2F1yxZk3\n-----END CERTIFICATE-----\n"
}

func (s *spec) config(t testing.TB, n int, key, val string) {
	switch key {
	case "user":
		s.cfg.User = val
	case "env":
		s.cfg.Env = append(s.cfg.Env, val)
	case "label":
		k, v, _ := strings.Cut(val, "=")
		if s.cfg.Labels == nil {
			s.cfg.Labels = map[string]string{}
		}
		s.cfg.Labels[k] = v
	case "expose":
		if s.cfg.ExposedPorts == nil {
			s.cfg.ExposedPorts = map[string]struct{}{}
		}
		s.cfg.ExposedPorts[val] = struct{}{}
	case "healthcheck":
		s.cfg.Healthcheck = &v1.HealthConfig{Test: strings.Fields(val)}
	case "nohealthcheck":
		s.cfg.Healthcheck = nil
	case "created":
		tm, err := time.Parse(time.RFC3339, val)
		if err != nil {
			t.Fatalf("line %d: %v", n, err)
		}
		s.created = tm
	default:
		t.Fatalf("line %d: unknown config %q", n, key)
	}
}

// layerBytes writes a layer as a tar stream.
func layerBytes(t testing.TB, entries []tentry) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := e.hdr
		h.Format = tar.FormatPAX
		h.ModTime = time.Unix(1700000000, 0)
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if len(e.body) > 0 {
			if _, err := tw.Write(e.body); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// build assembles the image.
func (s *spec) build(t testing.TB) v1.Image {
	t.Helper()
	img := empty.Image
	var hist []v1.History
	for i, entries := range s.layers {
		data := layerBytes(t, entries)
		l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
		if err != nil {
			t.Fatal(err)
		}
		if img, err = mutate.AppendLayers(img, l); err != nil {
			t.Fatal(err)
		}
		for _, by := range s.emptyBefore[i] {
			hist = append(hist, v1.History{CreatedBy: by, EmptyLayer: true})
		}
		hist = append(hist, v1.History{CreatedBy: s.createdBy[i]})
	}
	for _, by := range s.emptyBefore[len(s.layers)] {
		hist = append(hist, v1.History{CreatedBy: by, EmptyLayer: true})
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.Config = s.cfg
	cf.History = hist
	cf.OS, cf.Architecture = "linux", runtime.GOARCH
	cf.Created = v1.Time{Time: s.created}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// writeDockerArchive writes img as `docker save` would, under a tag.
func writeDockerArchive(t testing.TB, img v1.Image, tag string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "image.tar")
	ref, err := name.NewTag(tag)
	if err != nil {
		t.Fatal(err)
	}
	if err := tarball.WriteToFile(p, ref, img); err != nil {
		t.Fatal(err)
	}
	return p
}

var testNow = time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)

// auditSpec builds, writes and audits a spec image.
func auditSpec(t testing.TB, s *spec) []finding.Finding {
	t.Helper()
	img := s.build(t)
	tag := "dockvet-test/rules:latest"
	if s.name != "" {
		tag = s.name
	}
	path := writeDockerArchive(t, img, tag)
	opened, err := Open(context.Background(), "docker-archive:"+path, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer opened.Close()
	o := AuditOptions{Settings: s.settings, Now: testNow, Policy: &policy.Policy{TrustedRegistries: s.trusted}}
	if !s.noSecrets {
		engine, err := secrets.New(secrets.Options{MaxBytes: s.secretCap})
		if err != nil {
			t.Fatal(err)
		}
		o.Secrets = NewSecrets(engine)
	}
	fs, _, err := Audit(context.Background(), opened, o)
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

// annotationRe finds an internal/ruletest annotation at the end of a line,
// which is no part of the image.
var annotationRe = regexp.MustCompile(`(?:^|\s)(?:#|//)\s*(?:want(?:@[+-]\d+)?|ok|dockvet-test)\s`)

// place puts a finding at the line of the .img file it belongs to (see
// the format's comment); 0 is the image as a whole.
func (w placement) place(f finding.Finding) int {
	l := f.Location
	if rest, ok := strings.CutPrefix(l.Path, "history["); ok {
		n, err := strconv.Atoi(strings.TrimSuffix(rest, "]"))
		if err != nil || n < 0 || n >= len(w.history) {
			return -1
		}
		return w.history[n]
	}
	if l.LayerIndex == nil {
		return 0
	}
	k := entryKey{l.Path, *l.LayerIndex}
	if c := w.content[k]; l.Line > 0 && l.Line <= len(c) {
		return c[l.Line-1]
	}
	if n, ok := w.entry[k]; ok {
		return n
	}
	if *l.LayerIndex >= 0 && *l.LayerIndex < len(w.layer) {
		return w.layer[*l.LayerIndex]
	}
	return -1
}

// ranOn says which rules ran on a test image: the image rules, the
// Dockerfile rules run on its history, and the secret formats when the
// secret scan is on.
func (s *spec) ranOn(id string) bool {
	if onHistory(id) || slices.ContainsFunc(rules, func(r *Rule) bool { return r.ID == id }) {
		return true
	}
	return !s.noSecrets && slices.ContainsFunc(secrets.Rules(), func(r *secrets.Rule) bool { return r.ID == id })
}

// TestRules audits every test image and compares the findings with its
// annotations, exactly.
func TestRules(t *testing.T) {
	files, err := filepath.Glob("testdata/rules/*.img")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test images: %v", err)
	}
	var ran []string
	for _, file := range files {
		ran = append(ran, filepath.ToSlash(file))
		t.Run(filepath.Base(file), func(t *testing.T) {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			c, err := ruletest.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			s := parseSpec(t, string(src))
			// A want on a config, name or settings line is about the
			// image as a whole. (An ok stays on its line: findings about
			// the whole image never land there, and any unwanted one
			// fails the case.)
			for i := range c.Wants {
				if s.where.whole[c.Wants[i].Line] {
					c.Wants[i].Line = 0
				}
			}
			fs := auditSpec(t, s)
			got := make([]ruletest.Got, len(fs))
			for i, f := range fs {
				got[i] = ruletest.Got{Path: file, Line: s.where.place(f), Finding: f}
				if testing.Verbose() {
					t.Logf("%d: %s %s %q", got[i].Line, f.RuleID, f.Location.Path, f.Message)
				}
			}
			c.Check(t, got, s.ranOn)
		})
	}
	ruletest.RequireRun(t, "testdata", ran)
}

// TestDeviceNodesUnderDev: the /dev of an imported root filesystem is one
// low finding per layer, a device node elsewhere keeps the rule's
// severity.
func TestDeviceNodesUnderDev(t *testing.T) {
	s := parseSpec(t, "layer ADD rootfs.tar /\ndir /dev 0755\ndevice /dev/null c\ndevice /dev/zero c\ndevice /lib/disk b\n")
	sev := map[string]finding.Severity{}
	n := 0
	for _, f := range auditSpec(t, s) {
		if f.RuleID == ruleDevices.ID {
			sev[f.Location.Path] = f.Severity
			n++
		}
	}
	if n != 2 || sev["/dev"] != finding.Low || sev["/lib/disk"] != finding.Medium {
		t.Errorf("DV2041 findings by path: %v (%d findings), want /dev low and /lib/disk medium", sev, n)
	}
}
