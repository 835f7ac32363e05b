package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// VersionOptions are those of `dockvet version`.
type VersionOptions struct {
	*Shared
}

// NewCmdVersion prints the version, the commit and the database's age.
func NewCmdVersion(f *Factory, runF func(*VersionOptions) error) *cobra.Command {
	opts := &VersionOptions{Shared: f.Shared}
	return &cobra.Command{
		Use:         "version",
		Short:       "Print the version, commit and database age",
		Args:        cobra.NoArgs,
		Annotations: map[string]string{noConfig: "true"},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runVersion(opts)
		},
	}
}

func runVersion(opts *VersionOptions) error {
	fmt.Fprintf(opts.IO.Out, "dockvet %s\ncommit: %s\ngo: %s %s/%s\n", Version, commit(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintln(opts.IO.Out, dbVersionLine(opts.Shared))
	return nil
}

// commit is the VCS revision the binary was built from, when Go recorded it.
func commit() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	rev, dirty := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "unknown"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += " (modified)"
	}
	return rev
}
