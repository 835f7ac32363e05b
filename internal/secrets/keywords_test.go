package secrets

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
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
	filepath.WalkDir(filepath.Join(runtime.GOROOT(), "src"), func(p string, d fs.DirEntry, err error) error {
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
