package cli

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/spf13/cobra"
)

// parse runs cmd (built with a runF that keeps the options) on args with
// the shared flags bound, as the root binds them.
func parse(t *testing.T, f *Factory, cmd *cobra.Command, args ...string) {
	t.Helper()
	f.Shared.bind(cmd.PersistentFlags())
	cmd.SetArgs(args)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	if err := cmd.Execute(); err != nil {
		t.Fatalf("%v: %v", args, err)
	}
}

// TestFlagsToOptions: each command's flags and arguments land in its
// options, with the Factory's dependencies, and nothing runs.
func TestFlagsToOptions(t *testing.T) {
	newFactory := func() *Factory {
		e := newFakeEngine(t, "tcp://engine.test:2376")
		return &Factory{Shared: &Shared{Now: func() time.Time { return testNow }}, Engine: e.connect}
	}

	f := newFactory()
	var co *ContainerOptions
	parse(t, f, NewCmdContainer(f, func(o *ContainerOptions) error { co = o; return nil }), "--verify", "web", "db", "--format", "json")
	if !slices.Equal(co.Refs, []string{"web", "db"}) || !co.Verify || co.Format != "json" || co.Shared != f.Shared || co.Engine == nil {
		t.Errorf("container options %+v", co)
	}

	f = newFactory()
	var ho *HostOptions
	parse(t, f, NewCmdHost(f, func(o *HostOptions) error { ho = o; return nil }), "--root", "/mnt/host", "--no-engine", "--show-passed", "--fail-on", "none")
	if ho.Root != "/mnt/host" || !ho.NoEngine || !ho.ShowPassed || ho.Verify || ho.FailOn != "none" || ho.Engine == nil {
		t.Errorf("host options %+v", ho)
	}
	f = newFactory()
	parse(t, f, NewCmdHost(f, func(o *HostOptions) error { ho = o; return nil }))
	if ho.Root != "/" || ho.NoEngine || ho.FailOn != "high" {
		t.Errorf("host defaults %+v", ho)
	}

	f = newFactory()
	var wo *WatchOptions
	parse(t, f, NewCmdWatch(f, func(o *WatchOptions) error { wo = o; return nil }),
		"--once", "--webhook", "https://siem.example/hook", "--webhook-header", "A: b", "--webhook-header", "C: d",
		"--workers", "4", "--drain-timeout", "3s", "--output", "findings.jsonl")
	if !wo.Once || wo.Webhook != "https://siem.example/hook" || !slices.Equal(wo.Headers, []string{"A: b", "C: d"}) ||
		wo.Workers != 4 || wo.QueueSize != 4096 || wo.SpoolMax != 10000 || wo.DrainTimeout != 3*time.Second ||
		wo.WebhookTimeout != 10*time.Second || wo.Output != "findings.jsonl" || wo.Engine == nil {
		t.Errorf("watch options %+v", wo)
	}

	f = newFactory()
	var imo *ImageOptions
	parse(t, f, NewCmdImage(f, func(o *ImageOptions) error { imo = o; return nil }), "docker-archive:x.tar", "--max-age", "90d", "--no-secrets", "--platform", "linux/arm64",
		"--source", "registry", "--any-platform", "--fail-on-missing-data", "--db-max-age", "2d", "-H", "tcp://127.0.0.1:2376")
	if imo.Ref != "docker-archive:x.tar" || imo.MaxAge != "90d" || imo.WastedThreshold != "20MiB" || !imo.NoSecrets || imo.Platform != "linux/arm64" ||
		imo.Source != "registry" || !imo.AnyPlatform || !imo.FailOnMissingData || imo.DBMaxAge != "2d" || imo.EngineFlags.Host != "tcp://127.0.0.1:2376" {
		t.Errorf("image options %+v", imo)
	}

	f = newFactory()
	var do *DockerfileOptions
	parse(t, f, NewCmdDockerfile(f, func(o *DockerfileOptions) error { do = o; return nil }), "Dockerfile", "--context", "ctx")
	if !slices.Equal(do.Paths, []string{"Dockerfile"}) || do.Context != "ctx" {
		t.Errorf("dockerfile options %+v", do)
	}

	f = newFactory()
	var so *ScanOptions
	parse(t, f, NewCmdScan(f, func(o *ScanOptions) error { so = o; return nil }), "--exclude", "vendor/**")
	if so.Dir != "." || !slices.Equal(so.Exclude, []string{"vendor/**"}) {
		t.Errorf("scan options %+v", so)
	}
}
