package host

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/dockvet/dockvet/internal/testenv"
)

// BenchmarkCollectFixture reads the largest fixture host.
func BenchmarkCollectFixture(b *testing.B) {
	dir := filepath.Join("testdata", "hosts", "insecure")
	t := &testing.T{}
	o := Options{Root: filepath.Join(dir, "root"), Meta: readMeta(t, filepath.Join(dir, "meta.txt")), Env: map[string]string{}, Now: testNow}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Collect(context.Background(), o); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheck runs every host rule over a snapshot.
func BenchmarkCheck(b *testing.B) {
	s := loadFixture(&testing.T{}, filepath.Join("testdata", "hosts", "insecure"))
	b.ReportAllocs()
	for b.Loop() {
		Check(s, CheckOptions{Now: testNow})
	}
}

// BenchmarkCollectLive snapshots this machine's host and Engine.
func BenchmarkCollectLive(b *testing.B) {
	c := testenv.Docker(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Collect(context.Background(), Options{Root: "/", Engine: c, Auditctl: true}); err != nil {
			b.Fatal(err)
		}
	}
}
