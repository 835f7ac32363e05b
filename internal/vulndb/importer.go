package vulndb

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dockvet/dockvet/internal/safefile"
)

// maxRecordSize bounds one OSV record read into memory; the largest real
// records (long lists of affected versions) are well under 1 MiB.
const maxRecordSize = 16 << 20

// Skipped is an input file that is not a usable OSV record.
type Skipped struct {
	Name string `json:"name"`
	Err  string `json:"error"`
}

// ImportResult says what an import or update wrote.
type ImportResult struct {
	// Ecosystems are the ecosystems written, with their new metadata.
	Ecosystems []Meta
	// Records is the number of records read, Withdrawn how many of them
	// were withdrawn (and so removed, not added).
	Records   int
	Withdrawn int
	// Skipped lists the first files that could not be read as records;
	// SkippedCount counts them all.
	Skipped      []Skipped
	SkippedCount int
}

// maxSkippedListed bounds Skipped; the count covers the rest.
const maxSkippedListed = 10

// importOptions steer importRecords.
type importOptions struct {
	// only keeps the entries of one base ecosystem (an export of that
	// ecosystem also carries the other ecosystems its records affect,
	// which would overwrite those ecosystems with a fraction of their
	// data).
	only string
	// replace writes each ecosystem from this input alone; otherwise the
	// input is merged into the existing data.
	replace bool
	meta    Meta
	now     time.Time
}

// Import reads OSV records from path (an OSV all.zip export, any zip of
// OSV JSON files, a directory of them, or one JSON file holding a record
// or a list of records) and merges them into the database in cacheDir: a
// record replaces an earlier copy with the same ID, a withdrawn record
// removes it. Each ecosystem file is rewritten atomically.
func Import(ctx context.Context, cacheDir, path string, now time.Time) (*ImportResult, error) {
	src, err := openSource(path)
	if err != nil {
		return nil, err
	}
	abs, _ := filepath.Abs(path)
	return importRecords(ctx, storeDir(cacheDir), src, importOptions{
		meta: Meta{Source: abs, Updated: now, Checked: now},
		now:  now,
	})
}

// recordSource calls yield with every candidate record file of an input.
type recordSource func(yield func(name string, data []byte) error) error

// openSource recognises the kind of input at path.
func openSource(path string) (recordSource, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return dirSource(path), nil
	}
	f, err := safefile.Open(path)
	if err != nil {
		return nil, err
	}
	var magic [4]byte
	n, _ := io.ReadFull(f, magic[:])
	f.Close()
	if n == 4 && string(magic[:]) == "PK\x03\x04" {
		return zipSource(path), nil
	}
	if n == 4 && string(magic[:]) == "PK\x05\x06" {
		return nil, errors.New("empty zip archive")
	}
	return fileSource(path), nil
}

func dirSource(root string) recordSource {
	return func(yield func(string, []byte) error) error {
		return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() || !strings.EqualFold(filepath.Ext(p), ".json") {
				return nil
			}
			b, err := readFileBounded(p)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			return yield(filepath.ToSlash(rel), b)
		})
	}
}

func fileSource(path string) recordSource {
	return func(yield func(string, []byte) error) error {
		b, err := readFileBounded(path)
		if err != nil {
			return err
		}
		return yield(filepath.Base(path), b)
	}
}

func zipSource(path string) recordSource {
	return func(yield func(string, []byte) error) error {
		zr, err := zip.OpenReader(path)
		if err != nil {
			return fmt.Errorf("not a readable zip archive: %v", err)
		}
		defer zr.Close()
		for _, f := range zr.File {
			if f.FileInfo().IsDir() || !strings.EqualFold(filepath.Ext(f.Name), ".json") {
				continue
			}
			if f.UncompressedSize64 > maxRecordSize {
				if err := yield(f.Name, nil); err != nil {
					return err
				}
				continue
			}
			rc, err := f.Open()
			if err != nil {
				return fmt.Errorf("%s: %v", f.Name, err)
			}
			b, err := io.ReadAll(io.LimitReader(rc, maxRecordSize+1))
			rc.Close()
			if err != nil {
				return fmt.Errorf("%s: %v", f.Name, err)
			}
			if err := yield(f.Name, b); err != nil {
				return err
			}
		}
		return nil
	}
}

func readFileBounded(p string) ([]byte, error) {
	f, err := safefile.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxRecordSize+1))
}

// parsed is one input file's records (a file may hold a list).
type parsed struct {
	seq  int
	name string
	recs []*record
	err  error
}

// parseFile reads a file holding one OSV record or a JSON list of them.
func parseFile(b []byte, now time.Time) ([]*record, error) {
	if b == nil || len(b) > maxRecordSize {
		return nil, fmt.Errorf("larger than %d bytes", maxRecordSize)
	}
	t := bytes.TrimLeft(b, " \t\r\n\ufeff")
	if len(t) > 0 && t[0] == '[' {
		var list []json.RawMessage
		if err := json.Unmarshal(t, &list); err != nil {
			return nil, fmt.Errorf("not a list of OSV records: %v", err)
		}
		var out []*record
		for _, raw := range list {
			r, err := parseRecord(raw, now)
			if err != nil {
				return out, err
			}
			out = append(out, r)
		}
		return out, nil
	}
	r, err := parseRecord(b, now)
	if err != nil {
		return nil, err
	}
	return []*record{r}, nil
}

// importRecords parses every record of src (on all CPUs), groups their
// entries by base ecosystem, and writes each ecosystem's file.
func importRecords(ctx context.Context, dir string, src recordSource, opt importOptions) (*ImportResult, error) {
	removeStaleTemps(dir, opt.now.Add(-time.Hour))
	type job struct {
		seq  int
		name string
		data []byte
	}
	jobs := make(chan job, 64)
	results := make(chan parsed, 64)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				recs, err := parseFile(j.data, opt.now)
				results <- parsed{seq: j.seq, name: j.name, recs: recs, err: err}
			}
		}()
	}
	var all []parsed
	collected := make(chan struct{})
	go func() {
		for p := range results {
			all = append(all, p)
		}
		close(collected)
	}()
	seq := 0
	srcErr := src(func(name string, data []byte) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		jobs <- job{seq: seq, name: name, data: data}
		seq++
		return nil
	})
	close(jobs)
	wg.Wait()
	close(results)
	<-collected
	if srcErr != nil {
		return nil, srcErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// Input order decides between two copies of a record with the same
	// modification time: the later one wins.
	slices.SortFunc(all, func(a, b parsed) int { return a.seq - b.seq })

	res := &ImportResult{}
	data := map[string]*ecoData{}
	touch := func(base string) *ecoData {
		d := data[base]
		if d == nil {
			d = newEcoData()
			data[base] = d
		}
		return d
	}
	if opt.only != "" {
		touch(opt.only)
	}
	latest := map[string]time.Time{}
	for _, p := range all {
		if p.err != nil {
			res.SkippedCount++
			if len(res.Skipped) < maxSkippedListed {
				res.Skipped = append(res.Skipped, Skipped{Name: p.name, Err: oneLine(p.err.Error())})
			}
		}
		for _, r := range p.recs {
			t, seen := latest[r.ID]
			if seen && r.Modified.Before(t) {
				continue
			}
			latest[r.ID] = r.Modified
			if seen {
				// This copy replaces the one read before, wherever that
				// one's entries went.
				for _, d := range data {
					d.forget(r.ID)
				}
			} else {
				res.Records++
			}
			if r.Withdrawn {
				res.Withdrawn++
			}
			byBase := map[string][]keyedEntry{}
			for _, ke := range r.entries {
				if opt.only != "" && ke.base != opt.only {
					continue
				}
				byBase[ke.base] = append(byBase[ke.base], ke)
			}
			for base, es := range byBase {
				d := touch(base)
				if r.Withdrawn {
					d.withdraw(r.ID)
					continue
				}
				d.add(r.ID, r.info, es)
			}
		}
	}
	if res.Records == 0 {
		if res.SkippedCount > 0 {
			return res, fmt.Errorf("no usable OSV record (%d files rejected; first: %s: %s)", res.SkippedCount, res.Skipped[0].Name, res.Skipped[0].Err)
		}
		if opt.only == "" {
			return res, errors.New("no OSV records found (expected .json files)")
		}
	}
	bases := make([]string, 0, len(data))
	for b := range data {
		bases = append(bases, b)
	}
	slices.Sort(bases)
	for _, base := range bases {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		m, err := writeEcosystem(dir, base, data[base], !opt.replace, opt.meta)
		if err != nil {
			return res, fmt.Errorf("writing %s data: %v", base, err)
		}
		res.Ecosystems = append(res.Ecosystems, m)
	}
	return res, nil
}

// withdraw removes any copy of a record from d and from the existing data
// it is merged into.
func (d *ecoData) withdraw(id string) {
	d.forget(id)
	d.drop[id] = true
}

// forget removes the entries of a record read earlier from the same input.
func (d *ecoData) forget(id string) {
	if _, ok := d.recs[id]; !ok {
		return
	}
	for k, list := range d.entries {
		d.entries[k] = slices.DeleteFunc(list, func(e entry) bool { return e.ID == id })
	}
	delete(d.recs, id)
}
