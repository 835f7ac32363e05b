package host

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

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

// startContainers starts n containers of a tiny image, in the mix a host
// runs (half of them with unsafe settings), and removes them when the
// benchmark ends.
func startContainers(b *testing.B, c *client.Client, n int) {
	b.Helper()
	rnd := make([]byte, 4)
	rand.Read(rnd)
	prefix := "dvhostbench-" + hex.EncodeToString(rnd)
	img := prefix + "/app:1"
	testenv.Load(b, c, testenv.TinyImage(b, v1.Config{}), img)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for i := range n {
		hc := containertypes.HostConfig{}
		if i%2 == 1 {
			hc = containertypes.HostConfig{CapAdd: []string{"SYS_ADMIN"}, Binds: []string{"/var/run/docker.sock:/var/run/docker.sock"}}
		}
		res, err := c.ContainerCreate(ctx, client.ContainerCreateOptions{Name: prefix + "-" + strconv.Itoa(i),
			Config: &containertypes.Config{Image: img, Env: []string{"MODE=bench"}}, HostConfig: &hc})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			c.ContainerRemove(ctx, res.ID, client.ContainerRemoveOptions{Force: true})
		})
		if _, err := c.ContainerStart(ctx, res.ID, client.ContainerStartOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// benchContainers is how many containers the host benchmarks run.
const benchContainers = 20

// BenchmarkHostAudit is `dockvet host`'s work in one process: snapshot
// this machine with 20 containers of ours running (plus whatever else
// runs), and check it.
func BenchmarkHostAudit(b *testing.B) {
	c := testenv.Docker(b)
	startContainers(b, c, benchContainers)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		s, err := Collect(context.Background(), Options{Root: "/", Engine: c, Auditctl: true})
		if err != nil || s.Engine == nil || len(s.Engine.Containers) < benchContainers {
			b.Fatalf("snapshot: %v", err)
		}
		Check(s, CheckOptions{})
	}
}

// BenchmarkHostCommand runs the dockvet binary that DOCKVET_BENCH_BIN
// names (bench/host.sh builds it) as `dockvet host --format json` with 20
// containers of ours running, and reports its peak resident memory next
// to the wall clock per run.
func BenchmarkHostCommand(b *testing.B) {
	bin := os.Getenv("DOCKVET_BENCH_BIN")
	if bin == "" {
		b.Skip("DOCKVET_BENCH_BIN names no dockvet binary (bench/host.sh sets it)")
	}
	c := testenv.Docker(b)
	startContainers(b, c, benchContainers)
	var peak int64
	b.ResetTimer()
	for b.Loop() {
		cmd := exec.Command(bin, "host", "--format", "json", "--fail-on", "none", "--quiet", "--output", os.DevNull)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%v: %s", err, out)
		}
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			peak = max(peak, ru.Maxrss) // KiB on Linux
		}
	}
	b.ReportMetric(float64(peak)/1024, "peak-RSS-MiB")
}
