package inventory

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"

	rpmdb "github.com/knqyf263/go-rpmdb/pkg"
	"github.com/knqyf263/go-rpmdb/pkg/bdb"
	dbi "github.com/knqyf263/go-rpmdb/pkg/db"
	"github.com/knqyf263/go-rpmdb/pkg/ndb"
	"github.com/knqyf263/go-rpmdb/pkg/sqlite3"
)

// checkRPMDBFile runs the check of the database's format over the file at
// path: checkBDB for a Berkeley DB, checkNDB for an ndb; SQLite has its own
// reader's checks. Pages are read as needed, not the whole database.
func checkRPMDBFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	head := make([]byte, 512)
	n, _ := f.ReadAt(head, 0)
	head = head[:n]
	switch {
	case len(head) >= 4 && binary.LittleEndian.Uint32(head) == ndb.NDB_HeaderMagic:
		err = checkNDB(f, fi.Size())
	default:
		if _, perr := bdb.ParseHashMetadataPage(head); perr == nil {
			err = checkBDB(f, fi.Size())
		}
	}
	if err != nil {
		return fmt.Errorf("corrupt rpm database: %v", err)
	}
	return nil
}

// checkNDB checks the slots of an ndb database (SUSE's Packages.db) as
// go-rpmdb's reader will use them: that reader allocates each package's
// blob at the length its header claims, up to 4 GiB, before reading it,
// for every slot (a fuzzed database took 102 s). A blob must end within
// the file.
func checkNDB(r io.ReaderAt, size int64) error {
	var head [32]byte
	if _, err := r.ReadAt(head[:], 0); err != nil {
		return nil // the reader refuses it
	}
	pages := binary.LittleEndian.Uint32(head[12:])
	if binary.LittleEndian.Uint32(head[4:]) != ndb.NDB_DBVersion || pages == 0 || pages > 2048 {
		return nil // refused by the reader
	}
	slots := make([]byte, 16*(int(pages)*ndb.NDB_SlotEntriesPerPage-2))
	if _, err := r.ReadAt(slots, 32); err != nil {
		return nil
	}
	const slotMagic = 'S' | 'l'<<8 | 'o'<<16 | 't'<<24
	var blob [16]byte
	for i := 0; i < len(slots); i += 16 {
		s := slots[i : i+16]
		if binary.LittleEndian.Uint32(s) != slotMagic {
			return nil // the reader stops there
		}
		pkg, off := binary.LittleEndian.Uint32(s[4:]), int64(binary.LittleEndian.Uint32(s[8:]))*16
		if pkg == 0 {
			continue
		}
		if _, err := r.ReadAt(blob[:], off); err != nil {
			return nil // the reader fails to read it, and says so
		}
		if n := int64(binary.LittleEndian.Uint32(blob[12:])); off+16+n > size {
			return fmt.Errorf("the blob of package %d claims %d bytes, past the end of the database", pkg, n)
		}
	}
	return nil
}

// checkBDB walks a Berkeley DB hash database (the Packages of RHEL/CentOS 7
// and older) along the path go-rpmdb's reader will take, with go-rpmdb's
// own page parsers, and refuses the shapes that reader cannot survive. It
// reads the database in a goroutine of its own, where the recover of
// readRPMDB does not reach, and:
//   - an overflow chain reaching a page that is not an overflow page makes
//     it loop forever on that page (knqyf263/go-rpmdb#37, open);
//   - a chain that comes back to a page it passed loops forever too,
//     growing the value it assembles;
//   - an index or offset past the end of its page panics, and a panic in
//     that goroutine ends the process.
//
// Anything else go-rpmdb reports as an error itself, and checkBDB lets it.
// Data that is not a Berkeley DB hash database is left to rpmdb.Open.
func checkBDB(r io.ReaderAt, length int64) error {
	head := make([]byte, 512)
	n, _ := r.ReadAt(head, 0)
	meta, err := bdb.ParseHashMetadataPage(head[:n])
	if err != nil {
		return nil
	}
	size := int(meta.PageSize)
	if size < 512 || size > 65536 || size&(size-1) != 0 {
		return nil // rpmdb.Open refuses the page size
	}
	swapped := meta.Swapped
	pages := int(length / int64(size))
	// Two pages are in use at once: a hash page and one of its chains'.
	bufs := [2][]byte{make([]byte, size), make([]byte, size)}
	read := func(n uint32, buf int) []byte {
		if int(n) >= pages {
			return nil
		}
		if _, err := r.ReadAt(bufs[buf], int64(n)*int64(size)); err != nil {
			return nil
		}
		return bufs[buf]
	}
	page := func(n uint32) []byte { return read(n, 0) }
	chainPage := func(n uint32) []byte { return read(n, 1) }
	for n := uint32(0); n <= meta.LastPageNo && n != ^uint32(0); n++ {
		p := page(n)
		if p == nil {
			return nil // the reader stops at a short page
		}
		h, err := bdb.ParseHashPage(p, swapped)
		if err != nil {
			return nil
		}
		if h.PageType != bdb.HashUnsortedPageType && h.PageType != bdb.HashPageType {
			continue
		}
		if h.NumEntries%2 != 0 {
			return nil // refused by the reader
		}
		if bdb.PageHeaderSize+int(h.NumEntries)*bdb.HashIndexEntrySize > size {
			return fmt.Errorf("page %d lists %d entries, more than the page holds", n, h.NumEntries)
		}
		idx, err := bdb.HashPageValueIndexes(p, h.NumEntries, swapped)
		if err != nil {
			return nil
		}
		for _, i := range idx {
			if int(i) >= size {
				return fmt.Errorf("page %d: an entry lies past the page's end", n)
			}
			if p[i] != bdb.HashOffIndexPageType {
				continue
			}
			if int(i)+bdb.HashOffPageSize > size {
				return fmt.Errorf("page %d: an entry lies past the page's end", n)
			}
			e, err := bdb.ParseHashOffPageEntry(p[i:int(i)+bdb.HashOffPageSize], swapped)
			if err != nil {
				return nil
			}
			if err := checkOverflowChain(e.PageNo, uint32(size), pages, chainPage, swapped); err != nil {
				return fmt.Errorf("page %d: %w", n, err)
			}
		}
	}
	return nil
}

// checkOverflowChain follows one value's chain of overflow pages as the
// reader does (which computes a page's offset in 32 bits, wrapping).
func checkOverflowChain(first, size uint32, pages int, page func(uint32) []byte, swapped bool) error {
	steps := 0
	for cur := first; cur != 0; {
		if steps++; steps > pages {
			return fmt.Errorf("the overflow chain from page %d loops", first)
		}
		at := (size * cur) / size // the reader's offset, wrapped, as a page number
		p := page(at)
		if p == nil {
			return nil // the reader fails to read it, and says so
		}
		h, err := bdb.ParseHashPage(p, swapped)
		if err != nil {
			return nil
		}
		if h.PageType != bdb.OverflowPageType {
			return fmt.Errorf("the overflow chain from page %d reaches page %d, which is not an overflow page", first, at)
		}
		if h.NextPageNo == 0 && bdb.PageHeaderSize+int(h.FreeAreaOffset) > int(size) {
			return fmt.Errorf("overflow page %d ends past the page's end", at)
		}
		cur = h.NextPageNo
	}
	return nil
}

// checkHeaders reads every package header of the database at path with
// go-rpmdb's own backend readers (in rpmdb.Open's order: sqlite, ndb,
// Berkeley DB) and refuses a header whose index would make go-rpmdb's
// importer, which runs next, loop or allocate without end:
//   - a string entry whose count exceeds the header's data: the importer
//     counts strings by searching for their ends, and where there is none
//     it searches the same bytes again for each of up to 2^32 strings;
//   - more index entries than the header's bytes can hold: the importer
//     allocates them before checking the header's size.
//
// The Berkeley DB and ndb readers themselves are safe here once checkBDB
// or checkNDB passed.
func checkHeaders(path string) error {
	var db dbi.RpmDBInterface
	if s, err := sqlite3.Open(path); err == nil && s != nil {
		db = s
	} else if n, err := ndb.Open(path); err == nil && n != nil {
		db = n
	} else if b, err := bdb.Open(path); err == nil {
		db = b
	} else {
		return nil // rpmdb.Open says why
	}
	defer db.Close()
	var bad error
	for e := range db.Read() {
		// Read to the end even past a bad header: the reader's goroutine
		// would otherwise wait forever to hand over the next one.
		if e.Err == nil && bad == nil {
			bad = checkHeader(e.Value)
		}
	}
	return bad
}

// checkHeader checks one header blob: il and dl (big-endian), then il
// index entries of tag, type, offset and count, then dl bytes of data.
func checkHeader(blob []byte) error {
	if len(blob) < 8 {
		return nil // the importer refuses it
	}
	il := int64(int32(binary.BigEndian.Uint32(blob)))
	dl := int64(int32(binary.BigEndian.Uint32(blob[4:])))
	if il < 1 || dl < 0 {
		return nil // refused by the importer
	}
	if il > int64(len(blob)-8)/16 {
		return fmt.Errorf("a package header lists %d index entries in %d bytes", il, len(blob))
	}
	for i := int64(0); i < il; i++ {
		e := blob[8+16*i:]
		typ, count := binary.BigEndian.Uint32(e[4:]), binary.BigEndian.Uint32(e[12:])
		switch typ {
		case rpmdb.RPM_STRING_TYPE, rpmdb.RPM_STRING_ARRAY_TYPE, rpmdb.RPM_I18NSTRING_TYPE:
			// Each string ends with a NUL byte of the data.
			if int64(count) > dl {
				return fmt.Errorf("a package header claims %d strings in %d bytes of data", count, dl)
			}
		}
	}
	return nil
}
