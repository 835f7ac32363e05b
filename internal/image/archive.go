package image

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/dockvet/dockvet/internal/safefile"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// A store is where a source keeps its files: an OCI layout directory, or a
// tar archive (docker save output, an OCI archive) indexed without reading
// its layers.
type store interface {
	// open returns a file by its name relative to the store's root.
	open(name string) (io.ReadCloser, int64, error)
	// has reports whether the store holds a file.
	has(name string) bool
}

// Metadata files (manifests, configs, indexes) are read whole; anything
// claiming more than this is not metadata.
const maxMetadata = 16 << 20

// readMeta reads a small file of a store.
func readMeta(st store, name string) ([]byte, error) {
	rc, size, err := st.open(name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	if size > maxMetadata {
		return nil, fmt.Errorf("%s is %s, too large for image metadata", name, humanBytes(size))
	}
	data, err := io.ReadAll(io.LimitReader(rc, maxMetadata+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if int64(len(data)) > maxMetadata {
		return nil, fmt.Errorf("%s is too large for image metadata", name)
	}
	return data, nil
}

// readBlob reads a small content-addressed blob and checks its digest.
func readBlob(st store, d v1.Hash) ([]byte, error) {
	name, err := blobName(d)
	if err != nil {
		return nil, err
	}
	if !st.has(name) {
		return nil, fmt.Errorf("blob %s is missing", short(d))
	}
	data, err := readMeta(st, name)
	if err != nil {
		return nil, err
	}
	if got := sha256Of(data); got != d {
		return nil, fmt.Errorf("blob %s does not match its digest (holds %s)", short(d), short(got))
	}
	return data, nil
}

// blobName is where an OCI layout keeps a blob. Only sha256 is accepted, and
// the hex is checked, so a hostile index cannot name a path.
func blobName(d v1.Hash) (string, error) {
	if d.Algorithm != "sha256" || len(d.Hex) != 64 || strings.Trim(d.Hex, "0123456789abcdef") != "" {
		return "", fmt.Errorf("unsupported digest %q", d.String())
	}
	return "blobs/sha256/" + d.Hex, nil
}

func sha256Of(b []byte) v1.Hash {
	h := sha256.Sum256(b)
	return v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", h[:])}
}

// dirStore is an OCI layout directory. os.Root keeps every open inside it,
// whatever symlinks the directory holds.
type dirStore struct{ root *os.Root }

func (d dirStore) open(name string) (io.ReadCloser, int64, error) {
	// safefile.OpenIn: a FIFO named index.json would block a plain open
	// forever.
	f, err := safefile.OpenIn(d.root, name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, 0, fmt.Errorf("%s is missing", name)
		}
		return nil, 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, fi.Size(), nil
}

func (d dirStore) has(name string) bool {
	fi, err := d.root.Stat(name)
	return err == nil && fi.Mode().IsRegular()
}

// tarStore is a tar archive on disk, indexed once: every later open seeks
// straight to the entry, so layers are read once and in the order the
// image needs them.
type tarStore struct {
	f       io.ReaderAt
	entries map[string]tarEntry
}

type tarEntry struct{ off, size int64 }

// maxArchiveEntries bounds the index of an outer archive: image archives
// hold a few files per layer.
const maxArchiveEntries = 100_000

// posReader tracks the offset tar headers are read at, and lets archive/tar
// seek over entry bodies instead of reading them.
type posReader struct {
	r   io.ReadSeeker
	pos int64
}

func (p *posReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.pos += int64(n)
	return n, err
}

func (p *posReader) Seek(off int64, whence int) (int64, error) {
	n, err := p.r.Seek(off, whence)
	if err == nil {
		p.pos = n
	}
	return n, err
}

// indexTar reads the headers of an archive of the given size.
func indexTar(r archiveReader, size int64) (*tarStore, error) {
	pr := &posReader{r: r}
	tr := tar.NewReader(pr)
	st := &tarStore{f: r, entries: map[string]tarEntry{}}
	links := map[string]string{}
	end := int64(0) // where the last entry's data ends, padded to a block
	for n := 0; ; n++ {
		if n > maxArchiveEntries {
			return nil, fmt.Errorf("more than %d entries: not an image archive", maxArchiveEntries)
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, errors.New("truncated archive")
			}
			return nil, fmt.Errorf("not a valid tar archive (%v)", err)
		}
		end = pr.pos + (max(hdr.Size, 0)+511)/512*512
		if hdr.Typeflag == tar.TypeSymlink || hdr.Typeflag == tar.TypeLink {
			links[cleanRel(hdr.Name)] = linkTarget(hdr)
			continue
		}
		if hdr.Typeflag != tar.TypeReg { // the reader turns the legacy TypeRegA into TypeReg
			continue
		}
		if hdr.Size < 0 || pr.pos+hdr.Size > size {
			return nil, fmt.Errorf("truncated archive: %s claims %s past the end of the file", cleanRel(hdr.Name), humanBytes(hdr.Size))
		}
		st.entries[cleanRel(hdr.Name)] = tarEntry{off: pr.pos, size: hdr.Size}
	}
	if len(st.entries) == 0 {
		return nil, errors.New("empty archive")
	}
	// docker save (25 and later) links <id>/layer.tar to blobs/sha256/…:
	// a link names the file it points to.
	for name, target := range links {
		if e, ok := st.entries[target]; ok {
			if _, taken := st.entries[name]; !taken {
				st.entries[name] = e
			}
		}
	}
	// Every tar writer ends an archive with zero blocks; a file cut at an
	// entry boundary has none.
	if end+512 > size {
		return nil, errors.New("truncated archive: it ends without the end-of-archive blocks")
	}
	return st, nil
}

// linkTarget is the member a symlink or hard link of an archive names.
func linkTarget(hdr *tar.Header) string {
	if hdr.Typeflag == tar.TypeSymlink && !strings.HasPrefix(hdr.Linkname, "/") {
		return cleanRel(path.Join(path.Dir(cleanRel(hdr.Name)), hdr.Linkname))
	}
	return cleanRel(hdr.Linkname)
}

// cleanRel is an archive member's name without "./" or a leading slash.
func cleanRel(name string) string {
	p, _ := cleanName(name)
	return strings.TrimPrefix(p, "/")
}

func (t *tarStore) open(name string) (io.ReadCloser, int64, error) {
	e, ok := t.entries[cleanRel(name)]
	if !ok {
		return nil, 0, fmt.Errorf("%s is missing from the archive", name)
	}
	return io.NopCloser(io.NewSectionReader(t.f, e.off, e.size)), e.size, nil
}

func (t *tarStore) has(name string) bool {
	_, ok := t.entries[cleanRel(name)]
	return ok
}

// memStore holds the small files a streamed archive carried.
type memStore map[string][]byte

func (m memStore) open(name string) (io.ReadCloser, int64, error) {
	b, ok := m[cleanRel(name)]
	if !ok {
		return nil, 0, fmt.Errorf("%s is missing from the archive", name)
	}
	return io.NopCloser(bytes.NewReader(b)), int64(len(b)), nil
}

func (m memStore) has(name string) bool { _, ok := m[cleanRel(name)]; return ok }

// isDigestName reports whether an archive member is named by the digest of
// its content ("blobs/sha256/<hex>"), and returns that digest.
func isDigestName(name string) (v1.Hash, bool) {
	dir, hexPart := path.Split(cleanRel(name))
	if dir != "blobs/sha256/" {
		return v1.Hash{}, false
	}
	h := v1.Hash{Algorithm: "sha256", Hex: hexPart}
	if _, err := blobName(h); err != nil {
		return v1.Hash{}, false
	}
	return h, true
}
