package vulndb

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The store is one bbolt file per base ecosystem ("Debian.db", "npm.db")
// in <cache>/vulndb. A file is never modified in place: an import or update
// writes a new file beside it and renames it over the old one, so a crash
// or an interrupted download leaves the previous data intact, and a scan
// that has the old file open keeps reading it.

// formatVersion is the layout of the files; a file of another version is
// not read (run `dockvet db update`).
const formatVersion = 2

// DirName is the store's directory inside the cache directory.
const DirName = "vulndb"

// A file has four buckets: "pkgs" maps a package key to the entries of
// the records that name it, "recs" maps a record ID to what findings
// report of it, "rated" maps the ID and every alias of each record that
// rates its severity to that rating (what an advisory that rates nothing
// borrows, matching.go), "meta" holds the file's Meta. A file written
// before "rated" existed has none: its advisories borrow nothing.
var (
	bucketMeta  = []byte("meta")
	bucketPkgs  = []byte("pkgs")
	bucketRecs  = []byte("recs")
	bucketRated = []byte("rated")
	keyMeta     = []byte("meta")
)

// lendable reports whether a record's rating may rate the advisories it is
// an alias of: a CVSS base score, or GitHub's own rating of a GHSA
// advisory, describe the vulnerability; a distribution's priority
// (Ubuntu's "low", Red Hat's "Important") describes its own build of the
// package, and is not lent to another distribution's advisory.
func lendable(id string, info recordInfo) bool {
	return info.Severity != "" && (info.Score > 0 || strings.HasPrefix(id, "GHSA-"))
}

// Meta describes the data of one ecosystem.
type Meta struct {
	Format    int    `json:"format"`
	Ecosystem string `json:"ecosystem"`
	// Source is the URL or file the data came from; ETag and LastModified
	// are the server's validators for conditional requests.
	Source       string `json:"source"`
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"lastModified,omitempty"`
	// Updated is when the data was written; Checked when its source was
	// last confirmed unchanged (or written).
	Updated  time.Time `json:"updated"`
	Checked  time.Time `json:"checked"`
	Records  int       `json:"records"`
	Packages int       `json:"packages"`
}

// Fresh is the last time the data was known to be current.
func (m Meta) Fresh() time.Time {
	if m.Checked.After(m.Updated) {
		return m.Checked
	}
	return m.Updated
}

// storeDir is the store's directory.
func storeDir(cacheDir string) string { return filepath.Join(cacheDir, DirName) }

// ecoFile is the file of a base ecosystem; names like "Rocky Linux" are
// escaped to stay one path element.
func ecoFile(dir, base string) string {
	return filepath.Join(dir, url.PathEscape(base)+".db")
}

// ecoData is the new content for one base ecosystem: entries by store key,
// the records they came from, and (when merging into existing data) IDs
// whose older versions must go.
type ecoData struct {
	entries map[string][]entry
	recs    map[string]recordInfo
	drop    map[string]bool
}

func newEcoData() *ecoData {
	return &ecoData{entries: map[string][]entry{}, recs: map[string]recordInfo{}, drop: map[string]bool{}}
}

// add puts one record's entries for this ecosystem in d, replacing an
// earlier copy of the same record (the same ID seen twice in one input:
// the later wins).
func (d *ecoData) add(id string, info recordInfo, es []keyedEntry) {
	d.forget(id)
	d.recs[id] = info
	d.drop[id] = true
	for _, ke := range es {
		d.entries[ke.key] = append(d.entries[ke.key], ke.e)
	}
}

// writeBatch is how many keys one write transaction holds: it bounds the
// memory a large import needs.
const writeBatch = 20000

// writeEcosystem writes the base ecosystem's file anew: d's entries, and,
// when merge is set, the existing file's entries for records d does not
// replace. meta is completed with counts and stored in the same file.
func writeEcosystem(dir, base string, d *ecoData, merge bool, meta Meta) (Meta, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return meta, err
	}
	final := ecoFile(dir, base)
	tmpf, err := os.CreateTemp(dir, "."+url.PathEscape(base)+".tmp-*")
	if err != nil {
		return meta, err
	}
	tmp := tmpf.Name()
	tmpf.Close()
	ok := false
	defer func() {
		if !ok {
			os.Remove(tmp)
		}
	}()
	out, err := bolt.Open(tmp, 0o644, &bolt.Options{Timeout: time.Second, NoFreelistSync: true})
	if err != nil {
		return meta, err
	}
	defer out.Close()
	// bbolt grows files 16 MiB at a time by default; smaller steps keep a
	// small ecosystem's file small.
	out.AllocSize = 1 << 20

	var old *bolt.DB
	defer func() {
		if old != nil {
			old.Close()
		}
	}()
	if merge {
		if _, err := os.Stat(final); err == nil {
			old, err = bolt.Open(final, 0o444, &bolt.Options{ReadOnly: true, Timeout: 10 * time.Second})
			if err != nil {
				return meta, fmt.Errorf("reading the current %s data: %v", base, err)
			}
			if m, err := readMeta(old); err != nil || m.Format != formatVersion {
				// Data of another layout cannot be merged: start afresh.
				old.Close()
				old = nil
			}
		}
	}

	w := &batchWriter{db: out}
	err = mergeBucket(w, old, bucketPkgs, slices.Collect(maps.Keys(d.entries)), func(key string, prior []byte) ([]byte, error) {
		var es []entry
		if prior != nil {
			var err error
			if es, err = decodeEntries(prior); err != nil {
				return nil, fmt.Errorf("current %s data is damaged: %v", base, err)
			}
			es = slices.DeleteFunc(es, func(e entry) bool { return d.drop[e.ID] })
		}
		es = append(es, d.entries[key]...)
		if len(es) == 0 {
			return nil, nil
		}
		return encodeEntries(es), nil
	})
	if err != nil {
		return meta, err
	}
	packages := w.n
	ratings := map[string]aliasRating{}
	rate := func(id string, info recordInfo) {
		if !lendable(id, info) {
			return
		}
		r := aliasRating{Severity: info.Severity, Score: info.Score, Via: id}
		for _, k := range append([]string{id}, info.Aliases...) {
			if cur, ok := ratings[k]; !ok || r.better(cur) {
				ratings[k] = r
			}
		}
	}
	err = mergeBucket(w, old, bucketRecs, slices.Collect(maps.Keys(d.recs)), func(id string, prior []byte) ([]byte, error) {
		if info, ok := d.recs[id]; ok {
			rate(id, info)
			return encodeInfo(info), nil
		}
		if d.drop[id] {
			return nil, nil
		}
		info, err := decodeInfo(prior)
		if err != nil {
			return nil, fmt.Errorf("current %s data is damaged: %v", base, err)
		}
		rate(id, info)
		return prior, nil
	})
	if err != nil {
		return meta, err
	}
	records := w.n - packages
	err = mergeBucket(w, nil, bucketRated, slices.Collect(maps.Keys(ratings)), func(id string, _ []byte) ([]byte, error) {
		return encodeRating(ratings[id]), nil
	})
	if err != nil {
		return meta, err
	}
	meta.Format = formatVersion
	meta.Ecosystem = base
	meta.Records = records
	meta.Packages = packages
	mb, err := json.Marshal(meta)
	if err != nil {
		return meta, err
	}
	if err := w.flush(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		return b.Put(keyMeta, mb)
	}); err != nil {
		return meta, err
	}
	if err := out.Close(); err != nil {
		return meta, err
	}
	if old != nil {
		old.Close()
		old = nil
	}
	if err := os.Rename(tmp, final); err != nil {
		return meta, err
	}
	ok = true
	syncDir(dir)
	return meta, nil
}

// mergeBucket writes one bucket of the new file. It visits, in key order,
// every key of the old file's bucket and every key of fresh; value gives
// the new value from the old one (nil when the old file has none), or nil
// to leave the key out.
func mergeBucket(w *batchWriter, old *bolt.DB, bucket []byte, fresh []string, value func(key string, prior []byte) ([]byte, error)) error {
	slices.Sort(fresh)
	w.bucket = bucket
	i := 0
	put := func(k string, prior []byte) error {
		v, err := value(k, prior)
		if err != nil || v == nil {
			return err
		}
		return w.put([]byte(k), v)
	}
	if old != nil {
		err := old.View(func(tx *bolt.Tx) error {
			b := tx.Bucket(bucket)
			if b == nil {
				return nil
			}
			return b.ForEach(func(k, v []byte) error {
				key := string(k)
				for i < len(fresh) && fresh[i] < key {
					if err := put(fresh[i], nil); err != nil {
						return err
					}
					i++
				}
				if i < len(fresh) && fresh[i] == key {
					i++
				}
				return put(key, v)
			})
		})
		if err != nil {
			return err
		}
	}
	for ; i < len(fresh); i++ {
		if err := put(fresh[i], nil); err != nil {
			return err
		}
	}
	return w.flush(nil)
}

// batchWriter puts keys, in increasing order, into one bucket, a few
// thousand per transaction.
type batchWriter struct {
	db      *bolt.DB
	bucket  []byte
	pending [][2][]byte
	n       int
}

func (w *batchWriter) put(k, v []byte) error {
	w.pending = append(w.pending, [2][]byte{k, v})
	w.n++
	if len(w.pending) >= writeBatch {
		return w.flush(nil)
	}
	return nil
}

// flush writes the pending keys, and runs extra in the same transaction.
func (w *batchWriter) flush(extra func(*bolt.Tx) error) error {
	err := w.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(w.bucket)
		if err != nil {
			return err
		}
		// Keys arrive sorted: full pages make a smaller file.
		b.FillPercent = 1.0
		for _, kv := range w.pending {
			if err := b.Put(kv[0], kv[1]); err != nil {
				return err
			}
		}
		if extra != nil {
			return extra(tx)
		}
		return nil
	})
	w.pending = w.pending[:0]
	return err
}

func readMeta(db *bolt.DB) (Meta, error) {
	var m Meta
	err := db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketMeta)
		if b == nil {
			return errors.New("no metadata")
		}
		v := b.Get(keyMeta)
		if v == nil {
			return errors.New("no metadata")
		}
		return json.Unmarshal(v, &m)
	})
	return m, err
}

// markChecked records that the source of base's data was found unchanged.
// It is the one in-place write: a small transaction that bbolt commits
// atomically. When a scan holds the file open the mark is skipped; the
// data itself is current either way.
func markChecked(dir, base string, at time.Time) {
	if _, err := os.Stat(ecoFile(dir, base)); err != nil {
		return // bolt.Open would create an empty file
	}
	db, err := bolt.Open(ecoFile(dir, base), 0o644, &bolt.Options{Timeout: 500 * time.Millisecond})
	if err != nil {
		return
	}
	defer db.Close()
	db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketMeta)
		if b == nil {
			return nil
		}
		var m Meta
		if json.Unmarshal(b.Get(keyMeta), &m) != nil {
			return nil
		}
		m.Checked = at
		mb, err := json.Marshal(m)
		if err != nil {
			return err
		}
		return b.Put(keyMeta, mb)
	})
}

// removeStaleTemps deletes temporary files an interrupted import left.
func removeStaleTemps(dir string, olderThan time.Time) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), ".") || !strings.Contains(e.Name(), ".tmp-") {
			continue
		}
		if fi, err := e.Info(); err == nil && fi.ModTime().Before(olderThan) {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

func syncDir(dir string) {
	if f, err := os.Open(dir); err == nil {
		f.Sync()
		f.Close()
	}
}
