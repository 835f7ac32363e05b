package inventory

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/knqyf263/go-rpmdb/pkg/bdb"
	"github.com/knqyf263/go-rpmdb/pkg/ndb"
)

// firstOverflow finds, in a little-endian Berkeley DB, the first value
// stored in overflow pages: the page holding its index and its first
// overflow page.
func firstOverflow(t *testing.T, db []byte) (size int, first uint32) {
	t.Helper()
	meta, err := bdb.ParseHashMetadataPage(db[:512])
	if err != nil || meta.Swapped {
		t.Fatalf("seed: %v (swapped %v)", err, meta.Swapped)
	}
	size = int(meta.PageSize)
	for n := 0; (n+1)*size <= len(db); n++ {
		p := db[n*size : (n+1)*size]
		h, _ := bdb.ParseHashPage(p, false)
		if h == nil || h.PageType != bdb.HashPageType {
			continue
		}
		idx, _ := bdb.HashPageValueIndexes(p, h.NumEntries, false)
		for _, i := range idx {
			if p[i] == bdb.HashOffIndexPageType {
				e, _ := bdb.ParseHashOffPageEntry(p[i:int(i)+bdb.HashOffPageSize], false)
				return size, e.PageNo
			}
		}
	}
	t.Fatal("seed: no overflow value")
	return 0, 0
}

// TestCheckBDB: the shapes that make go-rpmdb's reader loop forever are
// refused before it runs (without the check, Extract never returns on the
// first two); the real database passes and is read.
func TestCheckBDB(t *testing.T) {
	good := gunzipBytes(t, "testdata/rpm/Packages.bdb.gz")
	if err := checkBDB(bytes.NewReader(good), int64(len(good))); err != nil {
		t.Fatalf("a real database: %v", err)
	}
	size, first := firstOverflow(t, good)
	at := int(first) * size
	for _, tc := range []struct {
		name, want string
		corrupt    func(db []byte)
	}{
		// knqyf263/go-rpmdb#37: the reader skips a non-overflow page
		// without moving on.
		{"zeroed overflow page", "not an overflow page", func(db []byte) { clear(db[at : at+size]) }},
		{"chain back to itself", "loops", func(db []byte) { binary.LittleEndian.PutUint32(db[at+16:], first) }},
		{"last page ends past its end", "past the page's end", func(db []byte) {
			binary.LittleEndian.PutUint32(db[at+16:], 0)
			binary.LittleEndian.PutUint16(db[at+22:], uint16(size))
		}},
	} {
		db := bytes.Clone(good)
		tc.corrupt(db)
		if err := checkBDB(bytes.NewReader(db), int64(len(db))); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error saying %q", tc.name, err, tc.want)
		}
		ps, err := RPM{}.Extract(context.Background(), Input{Path: "var/lib/rpm/Packages", Reader: bytes.NewReader(db), Size: int64(len(db)), Mode: 0o644})
		if err == nil || !strings.Contains(err.Error(), "corrupt rpm database") || len(ps) != 0 {
			t.Errorf("%s: Extract gave %d packages, %v", tc.name, len(ps), err)
		}
	}
	ps, err := RPM{}.Extract(context.Background(), Input{Path: "var/lib/rpm/Packages", Reader: bytes.NewReader(good), Size: int64(len(good)), Mode: 0o644})
	if err != nil || len(ps) == 0 {
		t.Errorf("a real database: %d packages, %v", len(ps), err)
	}
}

// TestCheckHeader: a header whose string entry claims more strings than its
// data holds (go-rpmdb searches the same bytes again for each, up to 2^32
// times), or more index entries than its bytes hold, is refused; the
// headers of a real database pass.
func TestCheckHeader(t *testing.T) {
	header := func(il, dl int32, typ, count uint32) []byte {
		b := binary.BigEndian.AppendUint32(nil, uint32(il))
		b = binary.BigEndian.AppendUint32(b, uint32(dl))
		for range il {
			b = binary.BigEndian.AppendUint32(b, 1000) // tag
			b = binary.BigEndian.AppendUint32(b, typ)
			b = binary.BigEndian.AppendUint32(b, 0) // offset
			b = binary.BigEndian.AppendUint32(b, count)
		}
		return append(b, make([]byte, dl)...)
	}
	for _, tc := range []struct {
		name string
		blob []byte
		want string
	}{
		{"strings past the data", header(1, 16, 8, 1<<32-1), "claims 4294967295 strings in 16 bytes"},
		{"entries past the header", header(1, 16, 4, 1)[:8], "lists 1 index entries in 8 bytes"},
	} {
		if err := checkHeader(tc.blob); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	for _, ok := range [][]byte{header(2, 16, 8, 16), header(1, 4, 4, 1), nil} {
		if err := checkHeader(ok); err != nil {
			t.Errorf("%x: %v", ok, err)
		}
	}
	path := filepath.Join(t.TempDir(), "Packages")
	if err := os.WriteFile(path, gunzipBytes(t, "testdata/rpm/Packages.bdb.gz"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := checkHeaders(path); err != nil {
		t.Errorf("a real database: %v", err)
	}
}

// ndbWithBlob is an ndb database of one slot page whose one package blob
// claims blobLen bytes and holds body.
func ndbWithBlob(blobLen uint32, body []byte) []byte {
	le := binary.LittleEndian
	b := le.AppendUint32(nil, ndb.NDB_HeaderMagic)
	b = le.AppendUint32(b, ndb.NDB_DBVersion)
	b = le.AppendUint32(b, 1) // generation
	b = le.AppendUint32(b, 1) // slot pages
	b = append(b, make([]byte, 16)...)
	const slotMagic, blobMagic = 'S' | 'l'<<8 | 'o'<<16 | 't'<<24, 'B' | 'l'<<8 | 'b'<<16 | 'S'<<24
	for i := range ndb.NDB_SlotEntriesPerPage - 2 {
		b = le.AppendUint32(b, slotMagic)
		if i == 0 {
			b = le.AppendUint32(b, 1)       // package 1
			b = le.AppendUint32(b, 4096/16) // its blob, in 16-byte units
			b = le.AppendUint32(b, 1)       // blocks
		} else {
			b = append(b, make([]byte, 12)...) // free
		}
	}
	b = le.AppendUint32(b, blobMagic)
	b = le.AppendUint32(b, 1)
	b = le.AppendUint32(b, 0) // checksum, not checked
	b = le.AppendUint32(b, blobLen)
	return append(b, body...)
}

// TestCheckNDB: go-rpmdb's ndb reader allocates a blob at the length it
// claims, up to 4 GiB a slot; a blob that claims more than the file holds
// is refused before it runs.
func TestCheckNDB(t *testing.T) {
	bad := ndbWithBlob(1<<32-16, nil)
	if err := checkNDB(bytes.NewReader(bad), int64(len(bad))); err == nil || !strings.Contains(err.Error(), "claims 4294967280 bytes, past the end") {
		t.Errorf("a blob past the end: %v", err)
	}
	ps, err := RPM{}.Extract(context.Background(), Input{Path: "var/lib/rpm/Packages.db", Reader: bytes.NewReader(bad), Size: int64(len(bad)), Mode: 0o644})
	if err == nil || !strings.Contains(err.Error(), "corrupt rpm database") || len(ps) != 0 {
		t.Errorf("Extract: %d packages, %v", len(ps), err)
	}
	ok := ndbWithBlob(8, make([]byte, 8))
	if err := checkNDB(bytes.NewReader(ok), int64(len(ok))); err != nil {
		t.Errorf("a blob within the file: %v", err)
	}
}
