package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Image is one indexed image, by manifest digest. The store keeps what the
// fleet service computed as opaque JSON (findings, inventory,
// vulnerabilities): it knows nothing of their shape but the index rows.
type Image struct {
	Digest       string
	Ref          string
	Repository   string
	ConfigDigest string
	Platform     string
	Distro       string
	Created      time.Time
	Size         int64
	// Layers are the diff IDs, base first.
	Layers []string
	// Facts are the configuration facts (JSON).
	Facts []byte
	// Findings are every finding but vulnerabilities, before the
	// configuration's filters (JSON).
	Findings []byte
	// Inventory is the package inventory (JSON): what re-matching reads.
	Inventory []byte
	// Vulns are the vulnerability findings of the last match (JSON), and
	// MatchedDB the advisory database state they were matched against.
	Vulns     []byte
	MatchedDB string
	Counts    Counts
	// Analyzer is the dockvet version that read the image.
	Analyzer  string
	ScannedAt time.Time
	MatchedAt time.Time
}

// Counts are an image's reported findings by severity, and the worst.
type Counts struct {
	Worst    int `json:"worst"`
	Critical int `json:"critical"`
	High     int `json:"high"`
	Medium   int `json:"medium"`
	Low      int `json:"low"`
	Info     int `json:"info"`
}

// Index is what the fleet queries search: the worst severity reported
// per practice, and every identifier (ID and aliases) of the image's
// vulnerabilities.
type Index struct {
	Practices  map[string]int
	Advisories []string
}

// Tag is a repository tag seen pointing at a digest.
type Tag struct {
	Repository string
	Tag        string
}

// Summary is an image in a list.
type Summary struct {
	Digest     string    `json:"digest"`
	Ref        string    `json:"image"`
	Repository string    `json:"repository"`
	Platform   string    `json:"platform"`
	Distro     string    `json:"distro,omitempty"`
	Counts     Counts    `json:"counts"`
	ScannedAt  time.Time `json:"scannedAt"`
	MatchedAt  time.Time `json:"matchedAt,omitzero"`
}

const imageColumns = `digest, ref, repository, config_digest, platform, distro, created, size, facts, findings, inventory, vulns,
	matched_db, worst, critical, high, medium, low, info, analyzer, scanned_at, matched_at`

// PutImage stores an indexed image (replacing an earlier index of the
// same digest), its layers, its index rows and the tags it was seen under,
// in one transaction.
func (s *Store) PutImage(ctx context.Context, img *Image, idx Index, tags []Tag) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		c := img.Counts
		_, err := tx.ExecContext(ctx, s.fill.Replace(`INSERT INTO images (`+imageColumns+`, layer_count)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, {now}, $21, $22)
			ON CONFLICT (digest) DO UPDATE SET ref = excluded.ref, repository = excluded.repository,
				config_digest = excluded.config_digest, platform = excluded.platform, distro = excluded.distro,
				created = excluded.created, size = excluded.size, facts = excluded.facts, findings = excluded.findings,
				inventory = excluded.inventory, vulns = excluded.vulns, matched_db = excluded.matched_db,
				worst = excluded.worst, critical = excluded.critical, high = excluded.high, medium = excluded.medium,
				low = excluded.low, info = excluded.info, analyzer = excluded.analyzer, scanned_at = excluded.scanned_at,
				matched_at = excluded.matched_at, layer_count = excluded.layer_count`),
			img.Digest, img.Ref, img.Repository, img.ConfigDigest, img.Platform, img.Distro, unixMilli(img.Created), img.Size,
			img.Facts, img.Findings, img.Inventory, img.Vulns, img.MatchedDB, c.Worst, c.Critical, c.High, c.Medium, c.Low, c.Info,
			img.Analyzer, unixMilli(img.MatchedAt), len(img.Layers))
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM image_layers WHERE digest = $1`, img.Digest); err != nil {
			return err
		}
		for i, l := range img.Layers {
			if _, err := tx.ExecContext(ctx, `INSERT INTO image_layers (digest, idx, diff_id) VALUES ($1, $2, $3)`, img.Digest, i, l); err != nil {
				return err
			}
		}
		if err := s.putIndex(ctx, tx, img.Digest, idx); err != nil {
			return err
		}
		for _, t := range tags {
			if _, err := tx.ExecContext(ctx, s.fill.Replace(`INSERT INTO image_tags (repository, tag, digest, seen_at) VALUES ($1, $2, $3, {now})
				ON CONFLICT (repository, tag) DO UPDATE SET digest = excluded.digest, seen_at = excluded.seen_at`),
				t.Repository, t.Tag, img.Digest); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *Store) putIndex(ctx context.Context, tx *sql.Tx, digest string, idx Index) error {
	w, err := s.prepareIndex(ctx, tx)
	if err != nil {
		return err
	}
	defer w.close()
	return w.put(ctx, digest, idx)
}

func unixMilli(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// TagDigest returns the digest a repository's tag was last seen at ("" when
// never).
func (s *Store) TagDigest(ctx context.Context, repository, tag string) (string, error) {
	var d string
	err := s.db.QueryRowContext(ctx, `SELECT t.digest FROM image_tags t JOIN images i ON i.digest = t.digest
		WHERE t.repository = $1 AND t.tag = $2`, repository, tag).Scan(&d)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return d, err
}

// AddTags records tags seen pointing at a stored image.
func (s *Store) AddTags(ctx context.Context, digest string, tags []Tag) error {
	for _, t := range tags {
		if _, err := s.db.ExecContext(ctx, s.fill.Replace(`INSERT INTO image_tags (repository, tag, digest, seen_at) VALUES ($1, $2, $3, {now})
			ON CONFLICT (repository, tag) DO UPDATE SET digest = excluded.digest, seen_at = excluded.seen_at`),
			t.Repository, t.Tag, digest); err != nil {
			return err
		}
	}
	return nil
}

// Image returns a stored image with everything it holds.
func (s *Store) Image(ctx context.Context, digest string) (*Image, error) {
	img, err := scanImage(s.db.QueryRowContext(ctx, `SELECT `+imageColumns+` FROM images WHERE digest = $1`, digest))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT diff_id FROM image_layers WHERE digest = $1 ORDER BY idx`, digest)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			return nil, err
		}
		img.Layers = append(img.Layers, d)
	}
	return img, rows.Err()
}

// HasImage reports whether digest is indexed.
func (s *Store) HasImage(ctx context.Context, digest string) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM images WHERE digest = $1`, digest).Scan(&n)
	return n > 0, err
}

func scanImage(row interface{ Scan(...any) error }) (*Image, error) {
	var img Image
	var created, scanned, matched int64
	c := &img.Counts
	err := row.Scan(&img.Digest, &img.Ref, &img.Repository, &img.ConfigDigest, &img.Platform, &img.Distro, &created, &img.Size,
		&img.Facts, &img.Findings, &img.Inventory, &img.Vulns, &img.MatchedDB, &c.Worst, &c.Critical, &c.High, &c.Medium, &c.Low, &c.Info,
		&img.Analyzer, &scanned, &matched)
	if err != nil {
		return nil, err
	}
	img.Created, img.ScannedAt, img.MatchedAt = ms(created), ms(scanned), ms(matched)
	return &img, nil
}

// Filter selects images. Zero fields select everything.
type Filter struct {
	Repository string
	// Practice keeps images with a reported finding of this practice (at
	// MinSeverity or above, when set).
	Practice string
	// MinSeverity keeps images whose worst finding (of Practice, when
	// set) is at least this severity.
	MinSeverity int
	// Advisory keeps images with this vulnerability (ID or alias).
	Advisory string
	// After is the digest the previous page ended with.
	After string
	Limit int
}

// Images lists image summaries by digest.
func (s *Store) Images(ctx context.Context, f Filter) ([]Summary, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	rows, err := s.db.QueryContext(ctx, `SELECT i.digest, i.ref, i.repository, i.platform, i.distro,
			i.worst, i.critical, i.high, i.medium, i.low, i.info, i.scanned_at, i.matched_at
		FROM images i
		WHERE ($1 = '' OR i.repository = $1)
		  AND ($2 = '' OR EXISTS (SELECT 1 FROM image_practices p WHERE p.digest = i.digest AND p.practice = $2 AND p.worst >= $3))
		  AND ($2 <> '' OR i.worst >= $3)
		  AND ($4 = '' OR EXISTS (SELECT 1 FROM image_advisories a WHERE a.digest = i.digest AND a.advisory = $4))
		  AND i.digest > $5
		ORDER BY i.digest LIMIT $6`, f.Repository, f.Practice, f.MinSeverity, f.Advisory, f.After, f.Limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Summary{}
	for rows.Next() {
		var sm Summary
		var scanned, matched int64
		c := &sm.Counts
		if err := rows.Scan(&sm.Digest, &sm.Ref, &sm.Repository, &sm.Platform, &sm.Distro,
			&c.Worst, &c.Critical, &c.High, &c.Medium, &c.Low, &c.Info, &scanned, &matched); err != nil {
			return nil, err
		}
		sm.ScannedAt, sm.MatchedAt = ms(scanned), ms(matched)
		out = append(out, sm)
	}
	return out, rows.Err()
}

// UnmatchedAfter lists, by digest after the given one, the images not
// matched against the advisory database state db (matched against an
// older one, or never).
func (s *Store) UnmatchedAfter(ctx context.Context, db, after string, limit int) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT digest FROM images WHERE matched_db <> $1 AND digest > $2 ORDER BY digest LIMIT $3`, db, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// Match is the result of matching one image's inventory again.
type Match struct {
	Digest string
	// Was is the database state the stored result was matched against;
	// the update applies only if it still is (two re-matchers racing
	// record the changes once).
	Was       string
	Vulns     []byte
	MatchedDB string
	Counts    Counts
	Index     Index
	Changes   []Change
}

// SetMatch stores a new match result with the changes it found, in one
// transaction. It reports false, changing nothing, when someone else
// matched the image first.
func (s *Store) SetMatch(ctx context.Context, m *Match) (bool, error) {
	applied, err := s.SetMatches(ctx, []*Match{m})
	return len(applied) == 1 && applied[0], err
}

// SetMatches stores several match results in one transaction (re-matching
// a fleet writes them in batches); applied says which were (an image
// someone else matched first is left as they wrote it).
func (s *Store) SetMatches(ctx context.Context, ms []*Match) ([]bool, error) {
	applied := make([]bool, len(ms))
	err := s.tx(ctx, func(tx *sql.Tx) error {
		upd, err := tx.PrepareContext(ctx, s.fill.Replace(`UPDATE images SET vulns = $3, matched_db = $4, worst = $5, critical = $6,
			high = $7, medium = $8, low = $9, info = $10, matched_at = {now} WHERE digest = $1 AND matched_db = $2`))
		if err != nil {
			return err
		}
		defer upd.Close()
		ins, err := s.prepareIndex(ctx, tx)
		if err != nil {
			return err
		}
		defer ins.close()
		now, err := s.txNow(ctx, tx)
		if err != nil {
			return err
		}
		for i, m := range ms {
			c := m.Counts
			res, err := upd.ExecContext(ctx, m.Digest, m.Was, m.Vulns, m.MatchedDB, c.Worst, c.Critical, c.High, c.Medium, c.Low, c.Info)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 0 {
				continue
			}
			applied[i] = true
			if err := ins.put(ctx, m.Digest, m.Index); err != nil {
				return err
			}
			var rows [][]any
			for _, ch := range m.Changes {
				rows = append(rows, []any{now, m.Digest, ch.Ref, ch.Kind, ch.Advisory, ch.Package, ch.Installed, ch.Severity, ch.Cause, ch.Finding})
			}
			if err := insertRows(ctx, tx, "INSERT INTO changes (at, digest, ref, kind, advisory, package, installed, severity, cause, finding) VALUES", "", rows); err != nil {
				return err
			}
		}
		return nil
	})
	return applied, err
}

// indexWriter replaces images' index rows.
type indexWriter struct {
	tx         *sql.Tx
	delP, delA *sql.Stmt
}

func (s *Store) prepareIndex(ctx context.Context, tx *sql.Tx) (*indexWriter, error) {
	w := &indexWriter{tx: tx}
	var err error
	if w.delP, err = tx.PrepareContext(ctx, `DELETE FROM image_practices WHERE digest = $1`); err != nil {
		return nil, err
	}
	if w.delA, err = tx.PrepareContext(ctx, `DELETE FROM image_advisories WHERE digest = $1`); err != nil {
		w.delP.Close()
		return nil, err
	}
	return w, nil
}

func (w *indexWriter) close() {
	w.delP.Close()
	w.delA.Close()
}

func (w *indexWriter) put(ctx context.Context, digest string, idx Index) error {
	if _, err := w.delP.ExecContext(ctx, digest); err != nil {
		return err
	}
	if _, err := w.delA.ExecContext(ctx, digest); err != nil {
		return err
	}
	var rows [][]any
	for p, worst := range idx.Practices {
		rows = append(rows, []any{digest, p, worst})
	}
	if err := insertRows(ctx, w.tx, "INSERT INTO image_practices (digest, practice, worst) VALUES", "", rows); err != nil {
		return err
	}
	rows = rows[:0]
	for _, a := range idx.Advisories {
		rows = append(rows, []any{a, digest})
	}
	return insertRows(ctx, w.tx, "INSERT INTO image_advisories (advisory, digest) VALUES", "ON CONFLICT DO NOTHING", rows)
}

// insertRows inserts rows with multi-row VALUES lists, a few hundred rows
// a statement: one round trip instead of one per row, which is most of
// the cost of writing a fleet's index to PostgreSQL. Only placeholders go
// into the statement; the values are parameters.
func insertRows(ctx context.Context, tx *sql.Tx, head, tail string, rows [][]any) error {
	const perStatement = 500
	for len(rows) > 0 {
		n := min(len(rows), perStatement)
		var q strings.Builder
		q.WriteString(head)
		args := make([]any, 0, n*len(rows[0]))
		for i, r := range rows[:n] {
			if i > 0 {
				q.WriteString(",")
			}
			q.WriteString(" (")
			for j, v := range r {
				if j > 0 {
					q.WriteString(", ")
				}
				args = append(args, v)
				fmt.Fprintf(&q, "$%d", len(args))
			}
			q.WriteString(")")
		}
		q.WriteString(" " + tail)
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}

// Matchable is what re-matching reads of an image.
type Matchable struct {
	Digest, Ref, MatchedDB     string
	Findings, Inventory, Vulns []byte
}

// txNow is the database clock, read once for a transaction's rows.
func (s *Store) txNow(ctx context.Context, tx *sql.Tx) (int64, error) {
	var ms int64
	err := tx.QueryRowContext(ctx, "SELECT "+s.now).Scan(&ms)
	return ms, err
}

// UnmatchedImages returns, by digest after the given one, the images not
// matched against the advisory database state db, with what re-matching
// reads: one query per page.
func (s *Store) UnmatchedImages(ctx context.Context, db, after string, limit int) ([]Matchable, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT digest, ref, matched_db, findings, inventory, vulns FROM images
		WHERE matched_db <> $1 AND digest > $2 ORDER BY digest LIMIT $3`, db, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Matchable
	for rows.Next() {
		var m Matchable
		if err := rows.Scan(&m.Digest, &m.Ref, &m.MatchedDB, &m.Findings, &m.Inventory, &m.Vulns); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// Change is a vulnerability that appeared in (new) or left (fixed) a
// stored image when its inventory was matched again.
type Change struct {
	ID        int64     `json:"id"`
	At        time.Time `json:"at"`
	Digest    string    `json:"digest"`
	Ref       string    `json:"image"`
	Kind      string    `json:"kind"`
	Advisory  string    `json:"advisory"`
	Package   string    `json:"package"`
	Installed string    `json:"installed"`
	Severity  int       `json:"-"`
	// Cause names the database change that caused it.
	Cause string `json:"cause"`
	// Finding is the vulnerability finding (JSON), as the report has it.
	Finding []byte `json:"-"`
}

// Changes lists changes after the change ID after, or at or after since
// when it is set, oldest first.
func (s *Store) Changes(ctx context.Context, after int64, since time.Time, limit int) ([]Change, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, at, digest, ref, kind, advisory, package, installed, severity, cause, finding
		FROM changes WHERE id > $1 AND at >= $2 ORDER BY id LIMIT $3`, after, unixMilli(since), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Change{}
	for rows.Next() {
		var c Change
		var at int64
		if err := rows.Scan(&c.ID, &at, &c.Digest, &c.Ref, &c.Kind, &c.Advisory, &c.Package, &c.Installed, &c.Severity, &c.Cause, &c.Finding); err != nil {
			return nil, err
		}
		c.At = ms(at)
		out = append(out, c)
	}
	return out, rows.Err()
}

// LastChangeID is the newest change's ID (0 when none).
func (s *Store) LastChangeID(ctx context.Context) (int64, error) {
	var id sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT MAX(id) FROM changes`).Scan(&id)
	return id.Int64, err
}

// LayerFacts returns what was recorded of a layer by an analyzer version
// (nil when nothing), and counts the reuse.
func (s *Store) LayerFacts(ctx context.Context, diffID, analyzer string) ([]byte, error) {
	var b []byte
	err := s.db.QueryRowContext(ctx, `SELECT facts FROM layers WHERE diff_id = $1 AND analyzer = $2`, diffID, analyzer).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	_, err = s.db.ExecContext(ctx, s.fill.Replace(`UPDATE layers SET uses = uses + 1, used_at = {now} WHERE diff_id = $1 AND analyzer = $2`), diffID, analyzer)
	return b, err
}

// PutLayerFacts records a layer's facts; the first writer wins (two
// workers reading the same new layer at once write the same facts).
func (s *Store) PutLayerFacts(ctx context.Context, diffID, analyzer string, facts []byte, size int64) error {
	_, err := s.db.ExecContext(ctx, s.fill.Replace(`INSERT INTO layers (diff_id, analyzer, facts, size, created_at, used_at, uses)
		VALUES ($1, $2, $3, $4, {now}, {now}, 1) ON CONFLICT (diff_id, analyzer) DO NOTHING`), diffID, analyzer, facts, size)
	return err
}

// Stats are the fleet's totals.
type Stats struct {
	Images  int `json:"images"`
	Layers  int `json:"layers"`
	Changes int `json:"changes"`
	// Worst counts images by their worst severity (0: no findings).
	Worst map[int]int `json:"-"`
}

// Stats counts the fleet.
func (s *Store) Stats(ctx context.Context) (*Stats, error) {
	st := &Stats{Worst: map[int]int{}}
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM images`).Scan(&st.Images); err != nil {
		return nil, err
	}
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM layers`).Scan(&st.Layers); err != nil {
		return nil, err
	}
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM changes`).Scan(&st.Changes); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT worst, COUNT(*) FROM images GROUP BY worst`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var w, n int
		if err := rows.Scan(&w, &n); err != nil {
			return nil, err
		}
		st.Worst[w] = n
	}
	return st, rows.Err()
}

// PracticeCounts counts images with a reported finding of each practice.
func (s *Store) PracticeCounts(ctx context.Context) (map[string]int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT practice, COUNT(*) FROM image_practices GROUP BY practice`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var p string
		var n int
		if err := rows.Scan(&p, &n); err != nil {
			return nil, err
		}
		out[p] = n
	}
	return out, rows.Err()
}
