// Package vulndb keeps a local copy of OSV vulnerability data and matches
// package inventories against it.
//
// Data comes from OSV's per-ecosystem exports (Update) or from files
// (Import), is parsed with the OSV schema's Go bindings, and is stored
// indexed by ecosystem and package name. Matching compares versions with
// each ecosystem's own rules (osv-scalibr's semantic package) and reports
// one finding per vulnerability per installed package.
package vulndb

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ErrNoDatabase is returned by Open when no vulnerability data has been
// imported yet. Its text is the one line a scan prints before going on
// with its other checks.
var ErrNoDatabase = errors.New("no vulnerability database (run 'dockvet db update' or 'dockvet db import'); vulnerability checks skipped")

// DB is an open, read-only vulnerability database.
type DB struct {
	dir  string
	ecos map[string]*ecosystemDB
}

type ecosystemDB struct {
	db   *bolt.DB
	meta Meta
}

// Open opens the database in cacheDir for reading. Files of another
// layout are left out: the next update rewrites them.
func Open(cacheDir string) (*DB, error) {
	dir := storeDir(cacheDir)
	names, err := filepath.Glob(filepath.Join(dir, "*.db"))
	if err != nil {
		return nil, err
	}
	db := &DB{dir: dir, ecos: map[string]*ecosystemDB{}}
	for _, name := range names {
		base, err := url.PathUnescape(strings.TrimSuffix(filepath.Base(name), ".db"))
		if err != nil {
			continue
		}
		b, err := bolt.Open(name, 0o444, &bolt.Options{ReadOnly: true, Timeout: 10 * time.Second})
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("vulnerability database %s: %v", name, err)
		}
		m, err := readMeta(b)
		if err != nil || m.Format != formatVersion {
			b.Close()
			continue
		}
		db.ecos[base] = &ecosystemDB{db: b, meta: m}
	}
	if len(db.ecos) == 0 {
		return nil, ErrNoDatabase
	}
	return db, nil
}

// Close releases the database files.
func (db *DB) Close() error {
	var first error
	for _, e := range db.ecos {
		if err := e.db.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Ecosystems returns the metadata of every ecosystem the database holds,
// sorted by name.
func (db *DB) Ecosystems() []Meta {
	out := make([]Meta, 0, len(db.ecos))
	for _, e := range db.ecos {
		out = append(out, e.meta)
	}
	slices.SortFunc(out, func(a, b Meta) int { return strings.Compare(a.Ecosystem, b.Ecosystem) })
	return out
}

// Has reports whether the database holds data for the base ecosystem of
// eco ("Debian" for "Debian:12").
func (db *DB) Has(eco string) bool {
	base, _, _ := strings.Cut(eco, ":")
	_, ok := db.ecos[base]
	return ok
}

// lookup returns the entries stored for a package.
func (db *DB) lookup(base, key string) ([]entry, error) {
	e := db.ecos[base]
	if e == nil {
		return nil, nil
	}
	var out []entry
	err := e.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPkgs)
		if b == nil {
			return nil
		}
		v := b.Get([]byte(key))
		if v == nil {
			return nil
		}
		var err error
		out, err = decodeEntries(v)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("vulnerability database (%s) is damaged: %v (run 'dockvet db update')", base, err)
	}
	return out, nil
}

// recordInfo returns what findings report of a record.
func (db *DB) recordInfo(base, id string) (recordInfo, error) {
	var info recordInfo
	e := db.ecos[base]
	if e == nil {
		return info, nil
	}
	err := e.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRecs)
		if b == nil {
			return nil
		}
		if v := b.Get([]byte(id)); v != nil {
			var err error
			info, err = decodeInfo(v)
			return err
		}
		return nil
	})
	if err != nil {
		return info, fmt.Errorf("vulnerability database (%s) is damaged: %v (run 'dockvet db update')", base, err)
	}
	return info, nil
}

// aliasRating is a severity the database holds for an ID: the rating of
// the record of that ID, or of a record that names it as an alias.
type aliasRating struct {
	Severity string
	Score    float64
	// Via is the record the rating is that of.
	Via string
}

func (a aliasRating) better(b aliasRating) bool {
	ra, rb := rating{label: a.Severity, score: a.Score}, rating{label: b.Severity, score: b.Score}
	if betterRating(ra, rb) {
		return true
	}
	// Equal ratings: the lowest record ID, so that the result does not
	// depend on the order ecosystems are read in.
	return !betterRating(rb, ra) && a.Via < b.Via
}

// borrowedRating is the best rating any ecosystem of the database holds
// for any of ids: how an advisory that rates nothing (the Go database's)
// is rated by the GHSA or CVE records it is an alias of.
func (db *DB) borrowedRating(ids []string) (aliasRating, bool, error) {
	var best aliasRating
	found := false
	for base, e := range db.ecos {
		err := e.db.View(func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketRated)
			if b == nil {
				return nil
			}
			for _, id := range ids {
				v := b.Get([]byte(id))
				if v == nil {
					continue
				}
				r, err := decodeRating(v)
				if err != nil {
					return err
				}
				if !found || r.better(best) {
					best, found = r, true
				}
			}
			return nil
		})
		if err != nil {
			return best, false, fmt.Errorf("vulnerability database (%s) is damaged: %v (run 'dockvet db update')", base, err)
		}
	}
	return best, found, nil
}

// Status describes the database in cacheDir without keeping it open.
type Status struct {
	Dir        string
	Ecosystems []Meta
}

// Records is the number of records over all ecosystems (a record that
// affects packages of two ecosystems counts in both).
func (s Status) Records() int {
	n := 0
	for _, m := range s.Ecosystems {
		n += m.Records
	}
	return n
}

// Oldest is the least fresh ecosystem's Fresh time; zero when empty.
func (s Status) Oldest() time.Time {
	var t time.Time
	for i, m := range s.Ecosystems {
		if i == 0 || m.Fresh().Before(t) {
			t = m.Fresh()
		}
	}
	return t
}

// ReadStatus reads the metadata of the database in cacheDir. An empty
// Status (no ecosystems) means there is no database.
func ReadStatus(cacheDir string) (Status, error) {
	st := Status{Dir: storeDir(cacheDir)}
	if _, err := os.Stat(st.Dir); errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	db, err := Open(cacheDir)
	if errors.Is(err, ErrNoDatabase) {
		return st, nil
	}
	if err != nil {
		return st, err
	}
	defer db.Close()
	st.Ecosystems = db.Ecosystems()
	return st, nil
}
