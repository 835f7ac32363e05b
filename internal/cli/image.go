package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/docker/go-units"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"

	"github.com/dockvet/dockvet/internal/image"
	"github.com/dockvet/dockvet/internal/imageaudit"
	"github.com/dockvet/dockvet/internal/layercache"
)

// imageMemory is the memory the Go runtime of dockvet image aims to stay
// within: the walk's data at a million entries (~75 MiB) and room for the
// collector, which on a loaded machine falls behind the allocations; the
// program itself takes some 30 MiB more, outside the limit.
const imageMemory = 104 << 20

// defaultDBMaxAge is how old the vulnerability database may be before a
// run says so: OSV's exports change daily, and a week-old database
// misses a week of advisories.
const defaultDBMaxAge = 7 * 24 * time.Hour

// ImageOptions are those of `dockvet image`.
type ImageOptions struct {
	*Shared
	Ref             string
	MaxAge          string
	WastedThreshold string
	MaxLayerSize    string
	MaxImageSize    string
	Verify          bool
	NoSecrets       bool
	IgnoreUnfixed   bool
	DBMaxAge        string
	// Server, when set, sends the scan to a `dockvet server` (or reads
	// its stored result) instead of scanning here.
	Server        string
	ServerTimeout time.Duration
	// NoCache neither reads nor writes the layer result cache.
	NoCache bool
}

// NewCmdImage audits an image.
func NewCmdImage(f *Factory, runF func(*ImageOptions) error) *cobra.Command {
	opts := &ImageOptions{Shared: f.Shared}
	def := image.DefaultOptions()
	cmd := &cobra.Command{
		Use:   "image REF",
		Short: "Audit an image: config, history, every layer (deleted files too), size",
		Long: "Audit an image in one streaming pass over its layers: configuration, history, the final filesystem and what lower layers still hold,\n" +
			"secrets in every file of every layer (deleted and overwritten ones too), and the installed packages against the local\n" +
			"vulnerability database ('dockvet db update'; without one, every other check still runs).\n" +
			"REF: docker-archive:FILE.tar, oci-archive:FILE.tar, oci:DIR, docker:NAME (the Docker Engine), registry:NAME, a .tar path\n" +
			"(docker save or OCI, sniffed; .tar.gz, .tgz and zstd-compressed too), or a bare NAME[:TAG][@DIGEST]: the Engine first,\n" +
			"then the registry, saying so when it falls back (--source pins one). The Engine is the one the Docker CLI would use:\n" +
			"--host, DOCKER_HOST, --context, DOCKER_CONTEXT, the current Docker context.\n" +
			"The report identifies what was read (source, image ID, digests, platform, distribution) and the vulnerability data\n" +
			"used; missing data is said on standard error even with --quiet, and --fail-on-missing-data makes it exit 2.\n" +
			"--format table ends with a per-layer size table.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Ref = args[0]
			if runF != nil {
				return runF(opts)
			}
			return runImage(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.MaxAge, "max-age", "180d", "report images built longer ago than this (DV2011): 90d, 26w, 4320h")
	fl.StringVar(&opts.WastedThreshold, "wasted-threshold", "20MiB", "report bytes wasted on deleted or overwritten files above this (DV2027)")
	fl.StringVar(&opts.MaxLayerSize, "max-layer-size", units.BytesSize(float64(def.MaxLayerBytes)), "refuse a layer that inflates to more than this (compression bombs)")
	fl.StringVar(&opts.MaxImageSize, "max-image-size", units.BytesSize(float64(def.MaxImageBytes)), "refuse an image whose layers inflate to more than this in total")
	fl.BoolVar(&opts.Verify, "verify", false, "check the image's signatures when the trust policy (.dockvet.yaml trust:) requires them (DV6501)")
	fl.BoolVar(&opts.NoSecrets, "no-secrets", false, "do not scan the layers' files for secrets (config, history and credential-file rules still run)")
	fl.BoolVar(&opts.IgnoreUnfixed, "ignore-unfixed", false, "leave out vulnerabilities that no released version fixes yet")
	fl.StringVar(&opts.Source, "source", "", "where to read a REF without a source prefix: "+strings.Join(image.Sources, ", ")+" (default: a file by its path, a name from the Engine, then the registry)")
	fl.BoolVar(&opts.AnyPlatform, "any-platform", false, "audit an image whose platform is not --platform instead of refusing it")
	fl.BoolVar(&opts.FailOnMissingData, "fail-on-missing-data", false, "exit 2 when the vulnerability database is missing or has no data for some of the image's packages")
	fl.StringVar(&opts.DBMaxAge, "db-max-age", fmt.Sprintf("%dd", defaultDBMaxAge/(24*time.Hour)), "say so when the vulnerability database was last updated longer ago than this (none: never)")
	opts.bindEngine(fl)
	fl.StringVar(&opts.Server, "server", "", "send the scan to a 'dockvet server' at this URL (or read its stored result) instead of scanning here; token in DOCKVET_SERVER_TOKEN")
	fl.DurationVar(&opts.ServerTimeout, "server-timeout", 10*time.Minute, "with --server, how long to wait for the scan")
	fl.BoolVar(&opts.NoCache, "no-cache", false, "neither read nor write the layer result cache (dockvet cache status)")
	return cmd
}

// parseAge reads a duration that may be given in days or weeks.
func parseAge(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	for suffix, unit := range map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			v, err := strconv.ParseFloat(n, 64)
			if err != nil || v <= 0 {
				return 0, errors.New("not a positive number of " + map[string]string{"d": "days", "w": "weeks"}[suffix])
			}
			return time.Duration(v * float64(unit)), nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, errors.New("want a positive duration such as 180d, 26w or 4320h")
	}
	return d, nil
}

func parseSize(flag, s string) (int64, error) {
	n, err := units.RAMInBytes(s)
	if err != nil || n <= 0 {
		return 0, fail("--%s %q: want a positive size such as 20MiB or 16GiB", flag, s)
	}
	return n, nil
}

func runImage(ctx context.Context, opts *ImageOptions) error {
	if opts.Server != "" {
		return opts.remoteImage(ctx, opts.Server, opts.Ref, opts.ServerTimeout)
	}
	if _, err := opts.checkFormat(findingFormats); err != nil {
		return err
	}
	age, err := parseAge(opts.MaxAge)
	if err != nil {
		return fail("--max-age %q: %v", opts.MaxAge, err)
	}
	wasted, err := parseSize("wasted-threshold", opts.WastedThreshold)
	if err != nil {
		return err
	}
	walk := image.DefaultOptions()
	if walk.MaxLayerBytes, err = parseSize("max-layer-size", opts.MaxLayerSize); err != nil {
		return err
	}
	if walk.MaxImageBytes, err = parseSize("max-image-size", opts.MaxImageSize); err != nil {
		return err
	}
	dbAge, err := parseMaxAge(opts.DBMaxAge)
	if err != nil {
		return fail("--db-max-age %q: %v", opts.DBMaxAge, err)
	}
	open, err := opts.imageOpenOptions()
	if err != nil {
		return err
	}
	if !opts.NoCache {
		c, err := openLayerCache(opts.Shared)
		if err != nil {
			return err
		}
		walk.Cache, walk.LayerKey = c, layercache.Program()
	}
	ctx, stop := interruptible(ctx)
	defer stop()
	limitImageMemory()
	settings := image.DefaultSettings()
	settings.MaxAge, settings.WastedBytes = age, wasted
	res, err := imageaudit.Audit(ctx, imageaudit.Options{
		Ref: opts.Ref, Open: open, Walk: walk, Settings: settings,
		Config: opts.cfg, Now: opts.Now(), Version: Version, CacheDir: opts.CacheDir, DBMaxAge: dbAge,
		NoSecrets: opts.NoSecrets, IgnoreUnfixed: opts.IgnoreUnfixed,
		Verify: opts.Verify, SignChecker: opts.signChecker,
		Engine: opts.engineInfo(), Notice: opts.notice, Warn: opts.alert,
		Progress: func() (func(image.Progress), func()) { return opts.walkProgress(opts.Ref) },
	})
	if err != nil {
		return fail("%v", err)
	}
	r := res.Report
	return opts.finish(r, findingFormats)
}

// imageOpenOptions reads an image as the shared flags say (--platform,
// --any-platform, --source, --offline, --insecure-registry, the Engine).
func (s *Shared) imageOpenOptions() (image.OpenOptions, error) {
	open := image.OpenOptions{Offline: s.Offline, Insecure: s.InsecureRegistry, AnyPlatform: s.AnyPlatform, RegistryTimeout: s.RegistryTimeout}
	if s.Platform != "" {
		p, err := v1.ParsePlatform(s.Platform)
		if err != nil || p.OS == "" || p.Architecture == "" {
			return open, fail("--platform %q: want OS/ARCH[/VARIANT], such as linux/arm64", s.Platform)
		}
		open.Platform = p
	}
	src, err := image.ParseSource(s.Source)
	if err != nil {
		return open, fail("--source: %v", err)
	}
	open.Source = src
	// The Engine is resolved only when a source needs it; an error then
	// is the source's to report.
	open.Engine = func(ctx context.Context) (*client.Client, error) {
		ep, err := s.endpoint()
		if err != nil {
			return nil, err
		}
		c, err := ep.Connect(ctx)
		if err == nil {
			s.engineUsed()
		}
		return c, err
	}
	open.Endpoint = s.endpoint
	return open, nil
}

// parseMaxAge is parseAge, or 0 for "none".
func parseMaxAge(s string) (time.Duration, error) {
	if strings.EqualFold(strings.TrimSpace(s), "none") || strings.TrimSpace(s) == "0" {
		return 0, nil
	}
	return parseAge(s)
}

// limitImageMemory sets the memory limit an image walk keeps to, unless
// GOMEMLIMIT sets one. The walk keeps under 80 bytes per layer entry
// (about 75 MiB at its cap of a million entries) and streams everything
// else; the limit tells the collector to run before garbage doubles that,
// rather than keeping the walk's memory down itself.
func limitImageMemory() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(imageMemory)
	}
}
