// Package fleettest gives tests the fleet's databases: a SQLite file in
// the test's temporary directory, and a fresh PostgreSQL database when one
// is configured, so that every store test runs on both engines.
//
// PostgreSQL comes from DOCKVET_POSTGRES_URL, a URL whose role may create
// databases. On a machine with Debian's postgresql, as root:
// `su postgres -c "createuser -d root"`, then
// DOCKVET_POSTGRES_URL='postgres:///postgres?host=/var/run/postgresql'
// (peer authentication over the Unix socket: no password anywhere).
// Without it the PostgreSQL half skips, unless DOCKVET_REQUIRE_POSTGRES=1
// demands it, and then it fails.
package fleettest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// DSN is one database a test runs on.
type DSN struct {
	// Name is "sqlite" or "postgres", for subtest names.
	Name string
	// URL is what --db takes.
	URL string
}

// DSNs returns a SQLite DSN and, when configured, a PostgreSQL one; run
// the test body once for each (t.Run(d.Name, …)).
func DSNs(t testing.TB) []DSN {
	t.Helper()
	out := []DSN{{Name: "sqlite", URL: "sqlite:" + filepath.Join(t.TempDir(), "fleet.db")}}
	if u, ok := Postgres(t); ok {
		out = append(out, DSN{Name: "postgres", URL: u})
	}
	return out
}

// Postgres returns the URL of a new, empty PostgreSQL database dropped when
// the test ends; false (after t.Skip's message in the log) when none is
// configured.
func Postgres(t testing.TB) (string, bool) {
	t.Helper()
	base := os.Getenv("DOCKVET_POSTGRES_URL")
	if base == "" {
		if os.Getenv("DOCKVET_REQUIRE_POSTGRES") == "1" {
			t.Fatal("DOCKVET_REQUIRE_POSTGRES=1 but DOCKVET_POSTGRES_URL is not set")
		}
		t.Log("PostgreSQL not configured (DOCKVET_POSTGRES_URL): the PostgreSQL half is skipped")
		return "", false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := sql.Open("pgx", base)
	if err == nil {
		err = admin.PingContext(ctx)
	}
	if err != nil {
		if os.Getenv("DOCKVET_REQUIRE_POSTGRES") == "1" {
			t.Fatalf("PostgreSQL at DOCKVET_POSTGRES_URL: %v", err)
		}
		t.Logf("PostgreSQL at DOCKVET_POSTGRES_URL unreachable (%v): the PostgreSQL half is skipped", err)
		return "", false
	}
	var b [6]byte
	rand.Read(b[:])
	name := "dockvet_test_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		t.Fatalf("creating a test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// Connections a test left open (a killed worker's) are ended first.
		admin.ExecContext(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", name)
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name); err != nil {
			t.Logf("dropping %s: %v", name, err)
		}
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("DOCKVET_POSTGRES_URL: %v", err)
	}
	u.Path = "/" + name
	return u.String(), true
}
