package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"
)

// Registry is a registry the server crawls.
type Registry struct {
	ID int64 `json:"id"`
	// URL is the registry's base URL (https://registry.example.com, or
	// http:// for a loopback registry).
	URL string `json:"url"`
	// Repositories are globs of repository names to scan ("team/*",
	// "**" for all).
	Repositories []string `json:"repositories"`
	// Credentials names where the credentials are (never the
	// credentials): "docker-config" (the server's Docker configuration
	// and its credential helpers) or "file:PATH" (a Docker config.json
	// style file the server reads when it crawls).
	Credentials string        `json:"credentials,omitempty"`
	Interval    time.Duration `json:"-"`
	NextCrawl   time.Time     `json:"nextCrawl,omitzero"`
	LastCrawl   time.Time     `json:"lastCrawl,omitzero"`
	LastError   string        `json:"lastError,omitempty"`
	CreatedAt   time.Time     `json:"createdAt"`
}

const registryColumns = `id, url, repositories, credentials, interval_ms, next_crawl, last_crawl, last_error, created_at`

func scanRegistry(row interface{ Scan(...any) error }) (*Registry, error) {
	var r Registry
	var repos string
	var interval, next, last, created int64
	if err := row.Scan(&r.ID, &r.URL, &repos, &r.Credentials, &interval, &next, &last, &r.LastError, &created); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(repos), &r.Repositories); err != nil {
		return nil, err
	}
	r.Interval = time.Duration(interval) * time.Millisecond
	r.NextCrawl, r.LastCrawl, r.CreatedAt = ms(next), ms(last), ms(created)
	return &r, nil
}

// AddRegistry registers a registry (or updates the one with the same URL);
// its first crawl is due at once.
func (s *Store) AddRegistry(ctx context.Context, r *Registry) (*Registry, error) {
	repos, err := json.Marshal(r.Repositories)
	if err != nil {
		return nil, err
	}
	return scanRegistry(s.db.QueryRowContext(ctx, s.fill.Replace(`INSERT INTO registries (url, repositories, credentials, interval_ms, next_crawl, created_at)
		VALUES ($1, $2, $3, $4, 0, {now})
		ON CONFLICT (url) DO UPDATE SET repositories = excluded.repositories, credentials = excluded.credentials,
			interval_ms = excluded.interval_ms, next_crawl = 0
		RETURNING `+registryColumns), r.URL, string(repos), r.Credentials, r.Interval.Milliseconds()))
}

// Registries lists the registered registries.
func (s *Store) Registries(ctx context.Context) ([]*Registry, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+registryColumns+` FROM registries ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Registry{}
	for rows.Next() {
		r, err := scanRegistry(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Registry returns one registry.
func (s *Store) Registry(ctx context.Context, id int64) (*Registry, error) {
	r, err := scanRegistry(s.db.QueryRowContext(ctx, `SELECT `+registryColumns+` FROM registries WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return r, err
}

// DeleteRegistry removes a registry.
func (s *Store) DeleteRegistry(ctx context.Context, id int64) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM registries WHERE id = $1`, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// ClaimCrawl takes the registry whose crawl is due, pushing its next crawl
// back by hold so that no other server crawls it meanwhile. Nil when none
// is due.
func (s *Store) ClaimCrawl(ctx context.Context, owner string, hold time.Duration) (*Registry, error) {
	r, err := scanRegistry(s.db.QueryRowContext(ctx, s.fill.Replace(`UPDATE registries SET next_crawl = {now} + $2, crawl_owner = $1
		WHERE id = (SELECT id FROM registries WHERE next_crawl <= {now} ORDER BY next_crawl, id LIMIT 1 {skip_locked})
		RETURNING `+registryColumns), owner, hold.Milliseconds()))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return r, err
}

// FinishCrawl records a crawl's outcome and schedules the next one.
func (s *Store) FinishCrawl(ctx context.Context, id int64, crawlErr string) error {
	_, err := s.db.ExecContext(ctx, s.fill.Replace(`UPDATE registries SET last_crawl = {now}, last_error = $2,
		next_crawl = {now} + interval_ms, crawl_owner = '' WHERE id = $1`), id, crawlErr)
	return err
}
