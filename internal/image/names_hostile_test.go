package image

import (
	"archive/tar"
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// Sibling directories under a long path (150,000 entries with 3.9 KB
// names took 147 s) are looked up from the previous entry's directory,
// climbing a few levels, not from the root: every path must still be found
// where the tar put it, under a short prefix and a long one.
func TestSiblingDirectoriesUnderLongPath(t *testing.T) {
	layer := func(prefix string, n int) []byte {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		for i := range n {
			tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("%sd%06d/f", prefix, i), Typeflag: tar.TypeReg, Mode: 0o644, Format: tar.FormatPAX})
		}
		tw.Close()
		return buf.Bytes()
	}
	for _, prefix := range []string{"a/", strings.Repeat("abcdefghi/", 100)} {
		blob := layer(prefix, 3000)
		v, err := walkBlobs(Options{}, nil, blob)
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range []int{0, 1500, 2999} {
			want := fmt.Sprintf("/%sd%06d/f", prefix, i)
			if f := v.Final(want); f == nil || f.Path() != want {
				t.Fatalf("%s not found", want)
			}
		}
	}
}
