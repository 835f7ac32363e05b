package secrets

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestKeywordIndex checks the index against a plain search: every
// occurrence of every keyword, case-insensitive unless written with an
// upper-case letter, overlapping ones included.
func TestKeywordIndex(t *testing.T) {
	words := []string{"token", "tok", "okay", "SG.", "://", "aws_secret", "secret", "-----begin rsa private key-----"}
	k, err := newKeywordIndex(words)
	if err != nil {
		t.Fatal(err)
	}
	text := []byte("TOKEN tokay msg. SG.x https://h aWs_SeCrEt_key -----BEGIN RSA PRIVATE KEY----- sg. tokentoken")
	type hit struct{ kw, at int }
	var got, want []hit
	k.find(text, 0, len(text), func(kw, at int) { got = append(got, hit{kw, at}) })
	for at := range text {
		for i, w := range words {
			if at+len(w) > len(text) {
				continue
			}
			s := string(text[at : at+len(w)])
			if s == w || strings.ToLower(w) == w && strings.ToLower(s) == w {
				want = append(want, hit{i, at})
			}
		}
	}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	seen := map[hit]bool{}
	for _, h := range got {
		seen[h] = true
	}
	for _, h := range want {
		if !seen[h] {
			t.Errorf("missed %q at %d", words[h.kw], h.at)
		}
	}
	if _, err := newKeywordIndex([]string{"ab"}); err == nil {
		t.Error("a two-byte keyword was accepted")
	}
}

// BenchmarkKeywordIndex measures the keyword pass alone over Go's own
// source, with every built-in keyword.
func BenchmarkKeywordIndex(b *testing.B) {
	var buf bytes.Buffer
	filepath.WalkDir(filepath.Join(goRoot(b), "src"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".go") && buf.Len() < 32<<20 {
			data, _ := os.ReadFile(p)
			buf.Write(data)
		}
		return nil
	})
	e := Default()
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	hits := 0
	for b.Loop() {
		hits = 0
		e.index.find(data, 0, len(data), func(int, int) { hits++ })
	}
	b.ReportMetric(float64(hits)/float64(len(data)>>20), "hits/MiB")
}

// TestKeywordIndexText checks the index with every built-in keyword
// against a plain search over real text (Go's own source).
func TestKeywordIndexText(t *testing.T) {
	var buf bytes.Buffer
	filepath.WalkDir(filepath.Join(goRoot(t), "src", "net"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && buf.Len() < 2<<20 {
			data, _ := os.ReadFile(p)
			if bytes.IndexByte(data, 0) < 0 {
				buf.Write(data)
			}
		}
		return nil
	})
	data := buf.Bytes()
	k := Default().index
	got := map[[2]int]bool{}
	k.find(data, 0, len(data), func(kw, at int) { got[[2]int{kw, at}] = true })
	lowerData := make([]byte, len(data)) // ASCII only: offsets must not move
	for i, c := range data {
		lowerData[i] = lower(c)
	}
	want := 0
	for i, w := range k.orig {
		hay, needle := lowerData, []byte(strings.ToLower(w))
		if k.exact[i] {
			hay, needle = data, []byte(w)
		}
		for off := 0; ; {
			j := bytes.Index(hay[off:], needle)
			if j < 0 {
				break
			}
			want++
			if !got[[2]int{i, off + j}] {
				t.Errorf("missed %q at %d", w, off+j)
			}
			off += j + 1
		}
	}
	if want != len(got) || want == 0 {
		t.Errorf("index found %d occurrences, plain search %d", len(got), want)
	}
}

// goRoot is the Go installation whose sources the keyword tests read, as
// the go command running the test names it.
func goRoot(tb testing.TB) string {
	tb.Helper()
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		tb.Fatalf("go env GOROOT: %v", err)
	}
	return strings.TrimSpace(string(out))
}
