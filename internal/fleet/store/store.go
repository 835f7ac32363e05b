// Package store is the fleet's database: the scan queue, the images with
// their inventories and findings, the layers already read, the changes
// re-matching found, and the registries to crawl. One schema runs on
// SQLite (modernc.org/sqlite, the embedded default) and on PostgreSQL
// (pgx); both are reached through database/sql with the same queries,
// which differ only where the engines do (the queue's row locking, the
// clock). The schema is versioned: migrations/DIALECT holds numbered
// golang-migrate files, applied when the store is opened.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/golang-migrate/migrate/v4"
	"github.com/golang-migrate/migrate/v4/database"
	migratepgx "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	migratesqlite "github.com/golang-migrate/migrate/v4/database/sqlite"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	_ "modernc.org/sqlite"             // database/sql driver "sqlite"
)

//go:embed migrations
var migrations embed.FS

// Dialect names the database engine behind a Store.
type Dialect string

// The engines a store runs on.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// SchemaVersion is the migration the code expects; Open applies the
// missing ones.
const SchemaVersion = 1

// Store is an open fleet database. It is safe for concurrent use.
type Store struct {
	db      *sql.DB
	dialect Dialect
	// now is the SQL expression of the database clock in milliseconds.
	now string
	// fill puts the dialect's pieces into a query: {now} and {skip_locked}.
	fill *strings.Replacer
}

// ParseDSN splits a --db value: sqlite:PATH, or a postgres:// or
// postgresql:// URL. It returns the driver's own data source name.
func ParseDSN(dsn string) (Dialect, string, error) {
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		p := strings.TrimPrefix(dsn, "sqlite:")
		p = strings.TrimPrefix(p, "//")
		if p == "" {
			return "", "", errors.New("sqlite: needs a file path (sqlite:/var/lib/dockvet/fleet.db)")
		}
		return SQLite, p, nil
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		if _, err := url.Parse(dsn); err != nil {
			return "", "", errors.New("not a valid postgres:// URL")
		}
		return Postgres, dsn, nil
	}
	return "", "", errors.New("want sqlite:PATH or postgres://USER@HOST/DB")
}

// Redact returns dsn without its password, for messages and logs.
func Redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// Open connects to the database dsn names and applies the migrations it
// lacks. A SQLite file is created (with its directory, 0700) when absent.
func Open(ctx context.Context, dsn string) (*Store, error) {
	dialect, src, err := ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	s := &Store{dialect: dialect}
	var driver, source string
	switch dialect {
	case SQLite:
		if dir := filepath.Dir(src); dir != "" {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return nil, fmt.Errorf("sqlite: %w", err)
			}
		}
		// WAL lets readers run beside the one writer; immediate
		// transactions take the write lock at BEGIN, so two writers
		// queue on the busy timeout instead of one failing when it
		// upgrades a read lock (SQLite's equivalent of the row locks
		// PostgreSQL gives the queue).
		q := url.Values{}
		q.Add("_pragma", "busy_timeout(30000)")
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "foreign_keys(1)")
		q.Add("_pragma", "synchronous(NORMAL)")
		q.Set("_txlock", "immediate")
		driver, source = "sqlite", "file:"+src+"?"+q.Encode()
		s.db, err = sql.Open(driver, source)
		if err != nil {
			return nil, err
		}
		s.now = "CAST(unixepoch('subsec') * 1000 AS INTEGER)"
	case Postgres:
		driver, source = "pgx", src
		s.db, err = sql.Open(driver, source)
		if err != nil {
			return nil, err
		}
		s.db.SetMaxOpenConns(16)
		// clock_timestamp, not now(): now() is the transaction's start.
		s.now = "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)"
	}
	s.db.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := s.db.PingContext(pctx); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("%s: %w", dialect, err)
	}
	if err := s.migrate(driver, source); err != nil {
		s.db.Close()
		return nil, err
	}
	skip := ""
	if dialect == Postgres {
		// Workers skip the jobs another worker has locked instead of
		// waiting for them. SQLite has one writer at a time, which
		// serializes claims by itself.
		skip = "FOR UPDATE SKIP LOCKED"
	}
	s.fill = strings.NewReplacer("{now}", s.now, "{skip_locked}", skip)
	return s, nil
}

// migrate brings the schema to SchemaVersion. golang-migrate takes a lock
// first (an advisory lock on PostgreSQL), so a server and workers starting
// together apply each migration once. It works on a connection pool of its
// own, which it closes when done.
func (s *Store) migrate(driver, src string) (err error) {
	sub, err := fs.Sub(migrations, "migrations/"+string(s.dialect))
	if err != nil {
		return err
	}
	files, err := iofs.New(sub, ".")
	if err != nil {
		return err
	}
	db, err := sql.Open(driver, src)
	if err != nil {
		return err
	}
	var m *migrate.Migrate
	switch s.dialect {
	case SQLite:
		var drv database.Driver
		if drv, err = migratesqlite.WithInstance(db, &migratesqlite.Config{}); err == nil {
			m, err = migrate.NewWithInstance("iofs", files, "sqlite", drv)
		}
	case Postgres:
		var drv database.Driver
		if drv, err = migratepgx.WithInstance(db, &migratepgx.Config{}); err == nil {
			m, err = migrate.NewWithInstance("iofs", files, "pgx5", drv)
		}
	}
	if err != nil {
		db.Close()
		return fmt.Errorf("migrations: %w", err)
	}
	defer func() {
		if serr, derr := m.Close(); err == nil && (serr != nil || derr != nil) {
			err = fmt.Errorf("migrations: %w", errors.Join(serr, derr))
		}
	}()
	if v, dirty, verr := m.Version(); verr == nil && v > SchemaVersion {
		return fmt.Errorf("the database's schema is version %d, newer than this dockvet's %d: upgrade dockvet", v, SchemaVersion)
	} else if verr == nil && dirty {
		return fmt.Errorf("the database's schema migration %d failed half-way; restore a backup or fix it by hand", v)
	}
	if err := m.Up(); err != nil && !errors.Is(err, migrate.ErrNoChange) {
		return fmt.Errorf("migrations: %w", err)
	}
	return nil
}

// Version reports the schema version the database is at.
func (s *Store) Version(ctx context.Context) (int, error) {
	var v int
	err := s.db.QueryRowContext(ctx, "SELECT version FROM schema_migrations").Scan(&v)
	return v, err
}

// Dialect says which engine the store runs on.
func (s *Store) Dialect() Dialect { return s.dialect }

// Close closes the connections.
func (s *Store) Close() error { return s.db.Close() }

// Ping checks that the database answers (readiness).
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// Now is the database's clock.
func (s *Store) Now(ctx context.Context) (time.Time, error) {
	var ms int64
	if err := s.db.QueryRowContext(ctx, "SELECT "+s.now).Scan(&ms); err != nil {
		return time.Time{}, err
	}
	return time.UnixMilli(ms), nil
}

// Size is the database's size in bytes (the SQLite file with its WAL, or
// pg_database_size).
func (s *Store) Size(ctx context.Context) (int64, error) {
	var n int64
	switch s.dialect {
	case Postgres:
		err := s.db.QueryRowContext(ctx, "SELECT pg_database_size(current_database())").Scan(&n)
		return n, err
	default:
		var pages, size int64
		if err := s.db.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
			return 0, err
		}
		if err := s.db.QueryRowContext(ctx, "PRAGMA page_size").Scan(&size); err != nil {
			return 0, err
		}
		return pages * size, nil
	}
}

// tx runs fn in a transaction, committed when fn returns nil.
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// Setting reads a value of the settings table ("" when unset).
func (s *Store) Setting(ctx context.Context, key string) (string, error) {
	var v string
	err := s.db.QueryRowContext(ctx, "SELECT value FROM settings WHERE key = $1", key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return v, err
}

// SetSetting writes a value of the settings table.
func (s *Store) SetSetting(ctx context.Context, key, value string) error {
	_, err := s.db.ExecContext(ctx, "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value", key, value)
	return err
}
