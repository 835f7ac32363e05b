package store_test

import (
	"testing"

	"github.com/dockvet/dockvet/internal/fleet/store"
	"github.com/dockvet/dockvet/internal/fuzztest"
)

// FuzzParseDSN: any --db value is read or refused, and a password never
// survives Redact.
func FuzzParseDSN(f *testing.F) {
	for _, s := range []string{"sqlite:/var/lib/dockvet/fleet.db", "sqlite:", "postgres://u:p@h:5432/db?sslmode=disable", "postgresql://h/db", "mysql://x", "", "sqlite://rel.db"} {
		f.Add(s)
	}
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, s string) {
		defer fuzztest.Budget(t)()
		d, src, err := store.ParseDSN(s)
		if err == nil && (src == "" || (d != store.SQLite && d != store.Postgres)) {
			t.Fatalf("%q: %q %q", s, d, src)
		}
		store.Redact(s)
	})
}
