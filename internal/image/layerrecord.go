package image

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/inventory"
	"github.com/dockvet/dockvet/internal/secrets"
)

// A layer's results can be kept and given back, so that a layer already
// read (a base layer shared by many images, an unchanged image scanned
// again) is not read a second time: LayerRecord is everything the walk
// and its analyzers learned from one layer, keyed by the layer's diff ID
// and the walk's LayerKey. What depends on the order of layers (deletions,
// overwrites, wasted bytes, the final filesystem) is not in it: the merge
// and the analyzers' Finish compute it again from the records, as after a
// read.
//
// This is the one per-layer result type: the fleet's database
// (internal/fleet) stores it as JSON (Options.Layers), and the layer cache
// under --cache-dir (internal/layercache, Options.Cache) streams the same
// content in a compact form without building it in memory
// (layerfacts.go).

// LayerRecordVersion changes whenever LayerRecord or an analyzer's layer
// data changes shape: a record of another version is not used.
const LayerRecordVersion = 1

// LayerStore keeps layer records. Get returns nil when it has none for the
// layer and key. Errors of Put do not stop a walk.
type LayerStore interface {
	Get(ctx context.Context, diffID, key string) (*LayerRecord, error)
	Put(ctx context.Context, diffID, key string, r *LayerRecord) error
}

// LayerAnalyzer is an analyzer whose results for one layer can be kept.
// A walk uses a LayerStore only when every analyzer is one.
type LayerAnalyzer interface {
	Analyzer
	// LayerKey names the analyzer and whatever changes its results
	// (version, options, rules).
	LayerKey() string
	// SaveLayer returns the analyzer's results for one layer's entries
	// (files, in tar order), right after the walk read them.
	SaveLayer(files []*File) (json.RawMessage, error)
	// LoadLayer takes back what SaveLayer returned, for the same entries
	// rebuilt from the record, in place of reading the layer.
	LoadLayer(files []*File, data json.RawMessage) error
}

// LayerRecord is what one layer yielded.
type LayerRecord struct {
	Version int `json:"version"`
	// Stored, Tar and Size are the layer's sizes (Layer's fields).
	Stored  int64         `json:"stored"`
	Tar     int64         `json:"tar"`
	Size    int64         `json:"size"`
	Entries []EntryRecord `json:"entries"`
	// Skipped are files an analyzer asked for but did not get.
	Skipped []SkippedRecord `json:"skipped,omitempty"`
	// Analyzers hold each analyzer's SaveLayer data, by analyzer name.
	Analyzers map[string]json.RawMessage `json:"analyzers"`
}

// EntryRecord is a File without its layer.
type EntryRecord struct {
	Path     string      `json:"p"`
	Linkname string      `json:"l,omitempty"`
	Size     int64       `json:"s,omitempty"`
	UID      int32       `json:"u,omitempty"`
	GID      int32       `json:"g,omitempty"`
	Mode     fs.FileMode `json:"m,omitempty"`
	Type     Type        `json:"t"`
	Escaped  bool        `json:"e,omitempty"`
	// RawName is the tar name of an escaped entry, as written.
	RawName string `json:"r,omitempty"`
}

// SkippedRecord is a Skipped of one layer, by entry index.
type SkippedRecord struct {
	Entry    int    `json:"entry"`
	Analyzer string `json:"analyzer"`
	Reason   string `json:"reason"`
}

// layerKey is the key of a walk's records, or "" when the analyzers'
// results cannot all be kept.
func (w *walker) layerKey() string {
	if w.opts.Layers == nil && w.opts.Cache == nil {
		return ""
	}
	parts := []string{fmt.Sprintf("walk/%d", LayerRecordVersion), w.opts.LayerKey, fmt.Sprintf("whole=%d", w.opts.MaxWholeFile)}
	for _, a := range w.analyzers {
		la, ok := a.(LayerAnalyzer)
		if !ok {
			return ""
		}
		parts = append(parts, la.LayerKey())
	}
	return strings.Join(parts, ";")
}

// reuse rebuilds layer l from its record in the walk's stores (the
// streamed cache first), instead of reading it. False: read it.
func (w *walker) reuse(l *Layer, key, label string) ([]*File, bool, error) {
	if key == "" {
		return nil, false, nil
	}
	if w.opts.Cache != nil {
		if files, ok, err := w.loadLayer(l, key, label); err != nil || ok {
			return files, ok, err
		}
	}
	if w.opts.Layers == nil {
		return nil, false, nil
	}
	rec, err := w.opts.Layers.Get(w.ctx, l.DiffID.String(), key)
	if err != nil {
		return nil, false, fmt.Errorf("%s: stored results: %w", label, err)
	}
	return w.replay(l, rec, label)
}

// saveLayer asks every analyzer for its results on a layer just read, once
// per layer (the secret scan counts what it read since the last layer).
// False: an analyzer cannot save its results, and the layer cannot be
// recorded.
func (w *walker) saveLayer(files []*File) (map[string]json.RawMessage, bool) {
	saved := map[string]json.RawMessage{}
	for _, a := range w.analyzers {
		la, ok := a.(LayerAnalyzer)
		if !ok {
			return nil, false
		}
		data, err := la.SaveLayer(files)
		if err != nil {
			return nil, false
		}
		saved[a.Name()] = data
	}
	return saved, true
}

// keep records a layer the walk read whole and verified in its stores; a
// store that cannot keep it costs a read next time, nothing more.
func (w *walker) keep(l *Layer, key string, files []*File, saved map[string]json.RawMessage) {
	if w.opts.Cache != nil {
		w.storeLayer(l, key, files, saved)
	}
	if w.opts.Layers != nil {
		w.opts.Layers.Put(w.ctx, l.DiffID.String(), key, w.record(l, files, saved))
	}
}

// replay puts a stored layer in place of reading it. It reports false
// (nothing changed) when the record cannot be used.
func (w *walker) replay(l *Layer, r *LayerRecord, label string) ([]*File, bool, error) {
	if r == nil || r.Version != LayerRecordVersion {
		return nil, false, nil
	}
	for _, a := range w.analyzers {
		if _, ok := r.Analyzers[a.Name()]; !ok {
			return nil, false, nil
		}
	}
	if w.entries+len(r.Entries) > w.opts.MaxEntries {
		return nil, false, fmt.Errorf("%s: more than %d entries in the image's layers (raise the limit if this image is real): %w", label, w.opts.MaxEntries, ErrLimit)
	}
	files := make([]*File, len(r.Entries))
	for i, e := range r.Entries {
		f, err := w.rebuild(l, e)
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", label, err)
		}
		files[i] = f
	}
	if err := w.reused(l, label, r.Tar); err != nil {
		return nil, false, err
	}
	for _, a := range w.analyzers {
		if err := a.(LayerAnalyzer).LoadLayer(files, r.Analyzers[a.Name()]); err != nil {
			return nil, false, fmt.Errorf("%s: stored results of %s: %w", label, a.Name(), err)
		}
	}
	for _, s := range r.Skipped {
		if s.Entry >= 0 && s.Entry < len(files) {
			w.skipped = append(w.skipped, Skipped{File: files[s.Entry], Analyzer: s.Analyzer, Reason: s.Reason})
		}
	}
	w.entries += len(files)
	l.Stored, l.Tar, l.Size, l.Files, l.Reused = r.Stored, r.Tar, r.Size, len(files), true
	return files, true, nil
}

// rebuild makes the File an entry record describes, as the walk would
// have: its directory interned, its name in the arena.
func (w *walker) rebuild(l *Layer, e EntryRecord) (*File, error) {
	if !strings.HasPrefix(e.Path, "/") || path.Clean(e.Path) != e.Path || len(e.Path) > maxNameLen || len(e.Linkname) > maxNameLen {
		return nil, errFacts
	}
	f := w.view.newFile()
	f.Layer, f.Size, f.UID, f.GID, f.Mode, f.Type, f.Escaped = l, e.Size, e.UID, e.GID, e.Mode, e.Type, e.Escaped
	if e.Escaped && e.RawName != "" {
		w.view.rawNames[f] = e.RawName
	}
	base := ""
	if e.Path != "/" {
		dir, err := w.view.intern(dirOf(e.Path))
		if err != nil {
			return nil, err
		}
		f.dir, base = dir, path.Base(e.Path)
	}
	if len(base) > maxComponent {
		return nil, errFacts
	}
	hasLink := f.Type == Symlink || f.Type == Hardlink
	ptr, n, err := w.view.names.store(base, e.Linkname, hasLink)
	if err != nil {
		return nil, err
	}
	f.name, f.nlen = ptr, uint16(n)|f.nlen&inEntry
	return f, nil
}

// reused charges a layer that was not read to the caps as if it had
// been: the same image must not pass with a warm store and fail without.
func (w *walker) reused(l *Layer, label string, tar int64) error {
	w.total += tar
	if tar > w.opts.MaxLayerBytes {
		return fmt.Errorf("%s: uncompressed size exceeds the per-layer limit of %s (a compression bomb, or raise --max-layer-size): %w", label, humanBytes(w.opts.MaxLayerBytes), ErrLimit)
	}
	if w.total > w.opts.MaxImageBytes {
		return fmt.Errorf("%s: uncompressed size of the image exceeds the limit of %s (raise --max-image-size): %w", label, humanBytes(w.opts.MaxImageBytes), ErrLimit)
	}
	return nil
}

// record makes the record of a layer the walk just read, with what its
// analyzers saved.
func (w *walker) record(l *Layer, files []*File, saved map[string]json.RawMessage) *LayerRecord {
	r := &LayerRecord{Version: LayerRecordVersion, Stored: l.Stored, Tar: l.Tar, Size: l.Size,
		Entries: make([]EntryRecord, len(files)), Analyzers: saved}
	index := make(map[*File]int, len(files))
	for i, f := range files {
		index[f] = i
		r.Entries[i] = EntryRecord{Path: f.Path(), Linkname: f.Linkname(), Size: f.Size, UID: f.UID, GID: f.GID, Mode: f.Mode, Type: f.Type,
			Escaped: f.Escaped, RawName: w.view.rawNames[f]}
	}
	for _, s := range w.skipped {
		if i, ok := index[s.File]; ok {
			r.Skipped = append(r.Skipped, SkippedRecord{Entry: i, Analyzer: s.Analyzer, Reason: s.Reason})
		}
	}
	return r
}

// The analyzers of this package keep their results per layer.

// factsLayer is what the rules' own analyzer read of one layer.
type factsLayer struct {
	Text      map[int][]byte `json:"text,omitempty"`
	Confirmed []int          `json:"confirmed,omitempty"`
}

func (a *facts) LayerKey() string { return "image-rules/1" }

func (a *facts) SaveLayer(files []*File) (json.RawMessage, error) {
	var d factsLayer
	for i, f := range files {
		if b, ok := a.text[f]; ok {
			if d.Text == nil {
				d.Text = map[int][]byte{}
			}
			if accountFiles[f.Path()] {
				b = redactHashes(b)
			}
			d.Text[i] = b
		}
		if a.confirmed[f] {
			d.Confirmed = append(d.Confirmed, i)
		}
	}
	return json.Marshal(d)
}

func (a *facts) LoadLayer(files []*File, data json.RawMessage) error {
	var d factsLayer
	if err := json.Unmarshal(data, &d); err != nil {
		return err
	}
	for i, b := range d.Text {
		if i < 0 || i >= len(files) {
			return fmt.Errorf("entry %d out of range", i)
		}
		a.text[files[i]] = b
	}
	for _, i := range d.Confirmed {
		if i < 0 || i >= len(files) {
			return fmt.Errorf("entry %d out of range", i)
		}
		a.confirmed[files[i]] = true
	}
	return nil
}

// secretsLayer is what the secret scan found in one layer: the matches
// without their secrets (secrets.StoredMatch), the files read only up to
// the cap, and what the layer added to the counts.
type secretsLayer struct {
	Found     map[int][]secrets.StoredMatch `json:"found,omitempty"`
	Truncated []int                         `json:"truncated,omitempty"`
	Capped    []int                         `json:"capped,omitempty"`
	Stats     SecretStats                   `json:"stats"`
}

// LayerKey names the secret engine's rules and byte cap: a new rule or
// another cap reads the layers again.
func (s *Secrets) LayerKey() string {
	rules := secrets.Rules()
	ids := make([]string, 0, len(rules))
	for _, r := range rules {
		ids = append(ids, r.ID)
	}
	return fmt.Sprintf("secrets/2/%d/%d/%s", s.e.MaxBytes(), MaxLayerSecrets, strings.Join(ids, ","))
}

func (s *Secrets) SaveLayer(files []*File) (json.RawMessage, error) {
	d := secretsLayer{Stats: s.stats.minus(s.saved)}
	d.Stats.MaxBytes = 0
	s.saved = s.stats
	trunc := map[*File]bool{}
	for _, f := range s.truncated {
		trunc[f] = true
	}
	capped := map[*File]bool{}
	for _, f := range s.capped {
		capped[f] = true
	}
	for i, f := range files {
		if ms := s.found[f]; len(ms) > 0 {
			if d.Found == nil {
				d.Found = map[int][]secrets.StoredMatch{}
			}
			for _, m := range ms {
				d.Found[i] = append(d.Found[i], m.Stored())
			}
		}
		if trunc[f] {
			d.Truncated = append(d.Truncated, i)
		}
		if capped[f] {
			d.Capped = append(d.Capped, i)
		}
	}
	return json.Marshal(d)
}

func (s *Secrets) LoadLayer(files []*File, data json.RawMessage) error {
	var d secretsLayer
	if err := json.Unmarshal(data, &d); err != nil {
		return err
	}
	for i, ms := range d.Found {
		if i < 0 || i >= len(files) {
			return fmt.Errorf("entry %d out of range", i)
		}
		for _, sm := range ms {
			m, ok := sm.Restore()
			if !ok {
				return fmt.Errorf("rule %s is not in the catalog", sm.RuleID)
			}
			s.found[files[i]] = append(s.found[files[i]], m)
		}
	}
	for _, i := range d.Truncated {
		if i < 0 || i >= len(files) {
			return fmt.Errorf("entry %d out of range", i)
		}
		s.truncated = append(s.truncated, files[i])
	}
	for _, i := range d.Capped {
		if i < 0 || i >= len(files) {
			return fmt.Errorf("entry %d out of range", i)
		}
		s.capped = append(s.capped, files[i])
	}
	s.stats = s.stats.plus(d.Stats)
	s.saved = s.saved.plus(d.Stats)
	return nil
}

func (a SecretStats) minus(b SecretStats) SecretStats {
	return SecretStats{Files: a.Files - b.Files, Bytes: a.Bytes - b.Bytes, Binary: a.Binary - b.Binary, Strings: a.Strings - b.Strings,
		SkippedPath: a.SkippedPath - b.SkippedPath, SkippedBytes: a.SkippedBytes - b.SkippedBytes, Truncated: a.Truncated - b.Truncated, MaxBytes: a.MaxBytes,
		Capped: a.Capped - b.Capped, Dropped: a.Dropped - b.Dropped, DroppedFiles: a.DroppedFiles - b.DroppedFiles}
}

func (a SecretStats) plus(b SecretStats) SecretStats {
	return SecretStats{Files: a.Files + b.Files, Bytes: a.Bytes + b.Bytes, Binary: a.Binary + b.Binary, Strings: a.Strings + b.Strings,
		SkippedPath: a.SkippedPath + b.SkippedPath, SkippedBytes: a.SkippedBytes + b.SkippedBytes, Truncated: a.Truncated + b.Truncated, MaxBytes: a.MaxBytes,
		Capped: a.Capped + b.Capped, Dropped: a.Dropped + b.Dropped, DroppedFiles: a.DroppedFiles + b.DroppedFiles}
}

// packagesLayer is what the package extractors listed, per file.
type packagesLayer struct {
	Found map[int]*inventory.Extracted `json:"found,omitempty"`
}

// LayerKey names the extractors (their set and the inventory's version).
func (p *Packages) LayerKey() string { return "packages/1/" + p.scanner.Key() }

func (p *Packages) SaveLayer(files []*File) (json.RawMessage, error) {
	var d packagesLayer
	for i, f := range files {
		if x := p.found[f]; x != nil {
			if d.Found == nil {
				d.Found = map[int]*inventory.Extracted{}
			}
			d.Found[i] = x
		}
	}
	return json.Marshal(d)
}

func (p *Packages) LoadLayer(files []*File, data json.RawMessage) error {
	var d packagesLayer
	if err := json.Unmarshal(data, &d); err != nil {
		return err
	}
	for i, x := range d.Found {
		if i < 0 || i >= len(files) {
			return fmt.Errorf("entry %d out of range", i)
		}
		p.found[files[i]] = x
	}
	return nil
}

// accountFiles may hold password hashes in their second field.
var accountFiles = map[string]bool{"/etc/shadow": true, "/etc/gshadow": true, "/etc/passwd": true, "/etc/group": true}

// storedHash marks a password field a record keeps as a fingerprint: the
// account rules see a locked, empty or usable password as before, and
// DV2034 the same fingerprint, but the hash itself is not kept.
const storedHash = "$dockvet-stored$"

// redactHashes replaces the password hashes of a colon database by their
// fingerprints, line for line (findings name lines).
func redactHashes(b []byte) []byte {
	lines := strings.Split(string(b), "\n")
	for i, l := range lines {
		f := strings.SplitN(l, ":", 3)
		if len(f) < 3 || strings.HasPrefix(strings.TrimSpace(l), "#") {
			continue
		}
		pw := f[1]
		rest := strings.TrimLeft(pw, "!*")
		if rest == "" || rest == "x" {
			continue
		}
		// The fingerprint's "fp:" is left out: a colon would split the field.
		f[1] = pw[:len(pw)-len(rest)] + storedHash + strings.TrimPrefix(finding.Fingerprint(passwordHashRule, pw), "fp:")
		lines[i] = strings.Join(f, ":")
	}
	return []byte(strings.Join(lines, "\n"))
}

// hashFingerprint is the fingerprint of a password field, read or stored.
func hashFingerprint(ruleID, pw string) string {
	rest := strings.TrimLeft(pw, "!*")
	if fp, ok := strings.CutPrefix(rest, storedHash); ok && ruleID == passwordHashRule {
		return "fp:" + fp
	}
	return finding.Fingerprint(ruleID, pw)
}

// passwordHashRule is DV2034's ID (rulePasswordHash.ID, which its own
// check cannot name without a cycle).
const passwordHashRule = "DV2034"
