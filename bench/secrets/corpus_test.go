package secrets

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/dockvet/dockvet/internal/secrets/sample"
)

// The benchmark corpus is generated under a temporary directory at bench
// time and never committed: DOCKVET_BENCH_DIR (default
// $TMPDIR/dockvet-bench-secrets) of DOCKVET_BENCH_MIB MiB (default 512).
// A manifest records the planted secrets; a corpus of the same size and
// seed is reused by later runs.

const seed = 20240611

type planted struct{ path, ruleID, secret string }

func benchDir() string {
	if d := os.Getenv("DOCKVET_BENCH_DIR"); d != "" {
		return d
	}
	return filepath.Join(os.TempDir(), "dockvet-bench-secrets")
}

func benchMiB() int {
	if v, err := strconv.Atoi(os.Getenv("DOCKVET_BENCH_MIB")); err == nil && v > 0 {
		return v
	}
	return 512
}

// corpusKind is one kind of text in the mix, with its share of the bytes.
type corpusKind struct {
	name  string
	share float64
	ext   string
	make  func(g *rand.Rand, size int) []byte
}

var kinds = []corpusKind{
	{"source", 0.25, ".go", nil}, // filled from GOROOT
	{"config", 0.20, ".yaml", genConfig},
	{"minjs", 0.20, ".min.js", genMinJS},
	{"lock", 0.15, ".lock", genLock},
	{"log", 0.20, ".log", genLog},
}

// ensureCorpus generates the corpus unless a complete one of this size is
// there, and returns its files and planted secrets.
func ensureCorpus() (string, []planted, error) {
	dir := filepath.Join(benchDir(), fmt.Sprintf("%dmib-%d", benchMiB(), seed))
	manifest := filepath.Join(dir, "MANIFEST")
	if data, err := os.ReadFile(manifest); err == nil {
		return dir, readManifest(data), nil
	}
	if err := os.RemoveAll(dir); err != nil {
		return "", nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", nil, err
	}
	g := rand.New(rand.NewPCG(seed, seed))
	total := benchMiB() << 20
	source, err := goSources()
	if err != nil {
		return "", nil, err
	}
	secrets := sample.All(seed)
	var plants []planted
	file := 0
	for _, k := range kinds {
		budget := int(float64(total) * k.share)
		for budget > 0 {
			size := 4<<10 + g.IntN(1<<20)
			if k.name == "lock" {
				size = 256<<10 + g.IntN(2<<20)
			}
			size = min(size, budget)
			var data []byte
			if k.name == "source" {
				data = sourceChunk(g, source, size)
			} else {
				data = k.make(g, size)
			}
			name := fmt.Sprintf("%s/%05d%s", k.name, file, k.ext)
			file++
			// One file in eight carries a planted secret, placed at a line
			// start somewhere inside.
			if g.IntN(8) == 0 {
				s := secrets[g.IntN(len(secrets))]
				if base := filepath.Base(s.Path); base == ".git-credentials" || base == ".pypirc" {
					// Rules for these files look at the name.
					name = fmt.Sprintf("%s/%05d/%s", k.name, file, base)
				}
				data = plant(g, data, s.Text)
				plants = append(plants, planted{name, s.RuleID, s.Secret})
			}
			p := filepath.Join(dir, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return "", nil, err
			}
			if err := os.WriteFile(p, data, 0o644); err != nil {
				return "", nil, err
			}
			budget -= len(data)
		}
	}
	var m bytes.Buffer
	for _, p := range plants {
		fmt.Fprintf(&m, "%s\t%s\t%s\n", p.path, p.ruleID, hex.EncodeToString([]byte(p.secret)))
	}
	if err := os.WriteFile(manifest, m.Bytes(), 0o644); err != nil {
		return "", nil, err
	}
	return dir, plants, nil
}

func readManifest(data []byte) []planted {
	var out []planted
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			continue
		}
		s, _ := hex.DecodeString(f[2])
		out = append(out, planted{f[0], f[1], string(s)})
	}
	return out
}

// plant inserts text at a line start in data.
func plant(g *rand.Rand, data []byte, text string) []byte {
	at := 0
	if len(data) > 0 {
		at = g.IntN(len(data))
		if i := bytes.IndexByte(data[at:], '\n'); i >= 0 {
			at += i + 1
		} else {
			at = len(data)
		}
	}
	out := make([]byte, 0, len(data)+len(text)+2)
	out = append(out, data[:at]...)
	if at > 0 && data[at-1] != '\n' {
		out = append(out, '\n')
	}
	out = append(out, text...)
	if !strings.HasSuffix(text, "\n") {
		out = append(out, '\n')
	}
	return append(out, data[at:]...)
}

// goSources concatenates the Go standard library's source: real code,
// comments, test tables and embedded test keys.
func goSources() ([]byte, error) {
	var buf bytes.Buffer
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return nil, fmt.Errorf("go env GOROOT: %w", err)
	}
	root := filepath.Join(strings.TrimSpace(string(out)), "src")
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || buf.Len() > 96<<20 {
			return nil
		}
		switch filepath.Ext(p) {
		case ".go", ".s", ".txt", ".json", ".md", ".html":
			data, err := os.ReadFile(p)
			if err == nil && bytes.IndexByte(data, 0) < 0 {
				buf.Write(data)
			}
		}
		return nil
	})
	if buf.Len() == 0 {
		return nil, fmt.Errorf("no Go sources under %s", root)
	}
	return buf.Bytes(), err
}

func sourceChunk(g *rand.Rand, src []byte, size int) []byte {
	start := g.IntN(max(len(src)-size, 1))
	end := min(start+size, len(src))
	return bytes.Clone(src[start:end])
}

const (
	alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	hexd  = "0123456789abcdef"
)

func rs(g *rand.Rand, alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[g.IntN(len(alphabet))]
	}
	return string(b)
}

var words = strings.Fields(`service api server client database cache queue worker session user account
	config timeout retry limit region bucket endpoint host port path name version image replicas
	resources memory cpu enabled debug level format output input source target build deploy release channel
	feature flag metrics tracing logging handler router middleware request response status error message id`)

func word(g *rand.Rand) string { return words[g.IntN(len(words))] }

// genConfig writes YAML, .env, INI and JSON configuration, with
// secret-named settings holding references and placeholders, as real
// configuration does.
func genConfig(g *rand.Rand, size int) []byte {
	var b bytes.Buffer
	for b.Len() < size {
		// About one block in twenty names a secret, and holds a
		// reference, a placeholder or a non-secret, as real files do.
		switch g.IntN(20) {
		case 0:
			fmt.Fprintf(&b, "%s:\n  %s_password: ${%s_PASSWORD}\n  url: https://%s.internal:%d/%s\n",
				word(g), word(g), strings.ToUpper(word(g)), word(g), 1024+g.IntN(60000), word(g))
		case 1:
			fmt.Fprintf(&b, "%s_TOKEN=${%s_TOKEN}\nAPI_KEY=<your-api-key>\n", strings.ToUpper(word(g)), strings.ToUpper(word(g)))
		case 2:
			fmt.Fprintf(&b, "[%s]\n%s = %s\nsecret_name = %s-%s\ntoken_ttl = %d\n\n", word(g), word(g), word(g), word(g), word(g), g.IntN(86400))
		case 3, 4, 5, 9, 10, 11, 12, 13:
			fmt.Fprintf(&b, "%s:\n  %s_%s: %s\n  %s: %d\n  replicas: %d\n  image: registry.internal/%s:%d.%d\n",
				word(g), word(g), word(g), rs(g, "abcdefghij", 8), word(g), g.IntN(10000), 1+g.IntN(9), word(g), g.IntN(9), g.IntN(30))
		case 6, 7, 14, 15, 16:
			fmt.Fprintf(&b, "%s_%s=%s\n%s_TIMEOUT=%ds\n%s_HOST=%s.internal\n", strings.ToUpper(word(g)), strings.ToUpper(word(g)), word(g), strings.ToUpper(word(g)), g.IntN(120), strings.ToUpper(word(g)), word(g))
		default:
			fmt.Fprintf(&b, `{"%s": {"%s": "%s", "id": "%s-%s-%s", "enabled": true, "count": %d}}`+"\n",
				word(g), word(g), word(g), rs(g, hexd, 8), rs(g, hexd, 4), rs(g, hexd, 12), g.IntN(1000))
		}
	}
	return b.Bytes()[:size]
}

// genMinJS writes minified JavaScript: long lines of short identifiers,
// string literals, an inline base64 image and source map.
func genMinJS(g *rand.Rand, size int) []byte {
	var b bytes.Buffer
	for b.Len() < size {
		line := 4096 + g.IntN(200000)
		start := b.Len()
		for b.Len()-start < line {
			switch g.IntN(40) {
			case 0:
				fmt.Fprintf(&b, `function %s(%s,%s){return %s.%s===%s.%s&&%s.token.length>0}`, rs(g, "abcdefgh", 1), rs(g, "eft", 1), rs(g, "nr", 1), rs(g, "eft", 1), word(g), rs(g, "nr", 1), word(g), rs(g, "eft", 1))
			case 1:
				fmt.Fprintf(&b, `var %s={%s:"%s",%s:void 0,password:e.password,apiKey:r.apiKey};`, rs(g, "abcdefgh", 1), word(g), word(g), word(g))
			case 6, 7, 8, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23:
				fmt.Fprintf(&b, `%s.prototype.%s=function(%s){this.%s=%s||{};return this.%s(%s,%d)};`, word(g), word(g), "e", word(g), "e", word(g), "e", g.IntN(100))
			case 9, 10, 11, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35:
				fmt.Fprintf(&b, `var %s=document.querySelector(".%s-%s");%s.addEventListener("click",function(){%s(%d)});`, rs(g, "abcdefgh", 1), word(g), word(g), rs(g, "abcdefgh", 1), word(g), g.IntN(1000))
			case 2:
				fmt.Fprintf(&b, `"data:image/png;base64,%s"`, base64.StdEncoding.EncodeToString(randBytes(g, 300+g.IntN(600))))
			case 3:
				fmt.Fprintf(&b, `fetch("https://%s.example.org/api/v%d/%s?id=%d").then(function(t){return t.json()});`, word(g), 1+g.IntN(3), word(g), g.IntN(1e6))
			default:
				fmt.Fprintf(&b, `for(var %s=0;%s<%s.length;%s++){%s[%s]=%s(%s[%s])}`, "i", "i", word(g), "i", word(g), "i", word(g), word(g), "i")
			}
		}
		b.WriteByte('\n')
	}
	return b.Bytes()[:size]
}

func randBytes(g *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(g.UintN(256))
	}
	return b
}

// genLock writes package-lock.json, yarn.lock and go.sum entries: hashes
// and integrity strings by the thousand.
func genLock(g *rand.Rand, size int) []byte {
	var b bytes.Buffer
	for b.Len() < size {
		name, ver := word(g)+"-"+word(g), fmt.Sprintf("%d.%d.%d", g.IntN(20), g.IntN(50), g.IntN(100))
		switch g.IntN(3) {
		case 0:
			fmt.Fprintf(&b, "    \"node_modules/%s\": {\n      \"version\": \"%s\",\n      \"resolved\": \"https://registry.npmjs.org/%s/-/%s-%s.tgz\",\n      \"integrity\": \"sha512-%s\"\n    },\n",
				name, ver, name, name, ver, base64.StdEncoding.EncodeToString(randBytes(g, 64)))
		case 1:
			fmt.Fprintf(&b, "%s@^%s:\n  version \"%s\"\n  resolved \"https://registry.yarnpkg.com/%s/-/%s-%s.tgz#%s\"\n  integrity sha1-%s\n\n",
				name, ver, ver, name, name, ver, rs(g, hexd, 40), base64.StdEncoding.EncodeToString(randBytes(g, 20)))
		default:
			fmt.Fprintf(&b, "github.com/%s/%s v%s h1:%s\ngithub.com/%s/%s v%s/go.mod h1:%s\n",
				word(g), name, ver, base64.StdEncoding.EncodeToString(randBytes(g, 32)), word(g), name, ver, base64.StdEncoding.EncodeToString(randBytes(g, 32)))
		}
	}
	return b.Bytes()[:size]
}

// genLog writes application and access logs.
func genLog(g *rand.Rand, size int) []byte {
	var b bytes.Buffer
	levels := []string{"INFO", "DEBUG", "WARN", "ERROR"}
	for b.Len() < size {
		switch g.IntN(50) {
		case 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33:
			fmt.Fprintf(&b, "2024-05-%02dT%02d:%02d:%02d.%03dZ %s %s: %s %s for user=%d request_id=%s-%s latency=%dms\n",
				1+g.IntN(28), g.IntN(24), g.IntN(60), g.IntN(60), g.IntN(1000), levels[g.IntN(4)], word(g), word(g), word(g), g.IntN(1e6), rs(g, hexd, 8), rs(g, hexd, 4), g.IntN(900))
		case 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49:
			fmt.Fprintf(&b, "10.%d.%d.%d - - [01/May/2024:10:%02d:%02d +0000] \"GET /api/%s/%d?token_type=bearer HTTP/1.1\" %d %d \"-\" \"Mozilla/5.0\"\n",
				g.IntN(256), g.IntN(256), g.IntN(256), g.IntN(60), g.IntN(60), word(g), g.IntN(1e5), 200+g.IntN(300), g.IntN(1e5))
		default:
			fmt.Fprintf(&b, "time=%d level=%s msg=\"auth token refreshed\" expires_in=%d session=%s\n", 1714550000+g.IntN(1e6), strings.ToLower(levels[g.IntN(4)]), g.IntN(7200), rs(g, alnum, 12))
		}
	}
	return b.Bytes()[:size]
}
