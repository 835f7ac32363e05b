package inventory

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/knqyf263/go-rpmdb/pkg/bdb"
)

// checkBDBFile runs checkBDB over the database at path when it is a
// Berkeley DB one; other formats are not read here.
func checkBDBFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	if _, err := bdb.ParseHashMetadataPage(head[:n]); err != nil {
		return nil
	}
	data, err := io.ReadAll(io.LimitReader(io.MultiReader(bytes.NewReader(head[:n]), f), maxRPMDBSize))
	if err != nil {
		return err
	}
	if err := checkBDB(data); err != nil {
		return fmt.Errorf("corrupt rpm database: %v", err)
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
func checkBDB(data []byte) error {
	meta, err := bdb.ParseHashMetadataPage(data[:min(len(data), 512)])
	if err != nil {
		return nil
	}
	size := int(meta.PageSize)
	if size < 512 || size > 65536 || size&(size-1) != 0 {
		return nil // rpmdb.Open refuses the page size
	}
	swapped := meta.Swapped
	pages := len(data) / size
	page := func(n uint32) []byte {
		if int(n) >= pages {
			return nil
		}
		return data[int(n)*size : (int(n)+1)*size]
	}
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
			if err := checkOverflowChain(e.PageNo, uint32(size), pages, page, swapped); err != nil {
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
