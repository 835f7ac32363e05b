package cli

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/docker/go-units"
	"github.com/spf13/cobra"

	"github.com/dockvet/dockvet/internal/layercache"
)

// CacheOptions are those of `dockvet cache status` and `dockvet cache
// clean`: the layer result cache under --cache-dir.
type CacheOptions struct {
	*Shared
}

// NewCmdCache manages the layer result cache; runF, when set, replaces
// both subcommands' run (tests).
func NewCmdCache(f *Factory, runF func(sub string, opts *CacheOptions) error) *cobra.Command {
	opts := &CacheOptions{Shared: f.Shared}
	run := func(sub string, fn func(*CacheOptions) error) func(*cobra.Command, []string) error {
		return func(*cobra.Command, []string) error {
			if runF != nil {
				return runF(sub, opts)
			}
			return fn(opts)
		}
	}
	cmd := &cobra.Command{
		Use:   "cache",
		Short: "Manage the layer result cache (status, clean)",
		Long: "The layer result cache keeps what `dockvet image` found in each layer it read (its files, secrets, packages), under\n" +
			"--cache-dir (DOCKVET_CACHE_DIR, default the user cache directory), so that a repeat scan reads no layer it has seen\n" +
			"and a base layer shared by many images is read once. Entries are keyed by the layer's digest, dockvet's build and\n" +
			"the rules and options that shape them; the least recently used go first when it grows past " + units.BytesSize(layercache.DefaultMaxBytes) + ".\n" +
			"`dockvet image --no-cache` neither reads nor writes it.",
		Annotations: map[string]string{noConfig: "true"},
		Args:        cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return fail("cache needs a subcommand: status or clean (see 'dockvet cache --help')")
		},
	}
	cmd.AddCommand(
		&cobra.Command{Use: "status", Short: "Show where the layer cache is, its entries and size", Args: cobra.NoArgs, RunE: run("status", runCacheStatus)},
		&cobra.Command{Use: "clean", Short: "Remove every entry of the layer cache", Args: cobra.NoArgs, RunE: run("clean", runCacheClean)},
	)
	return cmd
}

// openLayerCache opens the layer cache under the cache directory.
func openLayerCache(s *Shared) (*layercache.Cache, error) {
	dir, err := s.cacheDir()
	if err != nil {
		return nil, err
	}
	c, err := layercache.Open(filepath.Join(dir, layercache.Subdir), layercache.Options{})
	if err != nil {
		return nil, fail("%v", err)
	}
	return c, nil
}

func runCacheStatus(opts *CacheOptions) error {
	c, err := openLayerCache(opts.Shared)
	if err != nil {
		return err
	}
	st, err := c.Status()
	if err != nil {
		return fail("%v", err)
	}
	fmt.Fprintf(opts.IO.Out, "layer cache: %s\nentries: %d\nsize: %s of %s\n", st.Dir, st.Entries, units.BytesSize(float64(st.Bytes)), units.BytesSize(float64(st.MaxBytes)))
	if st.Entries > 0 {
		fmt.Fprintf(opts.IO.Out, "used: %s to %s\n", st.Oldest.UTC().Format(time.RFC3339), st.Newest.UTC().Format(time.RFC3339))
	}
	return nil
}

func runCacheClean(opts *CacheOptions) error {
	c, err := openLayerCache(opts.Shared)
	if err != nil {
		return err
	}
	n, size, err := c.Clean()
	if err != nil {
		return fail("%v", err)
	}
	fmt.Fprintf(opts.IO.Out, "removed %d entries (%s) from %s\n", n, units.BytesSize(float64(size)), c.Dir())
	return nil
}
