package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

var _ = register(newVersionCmd)

// versionLines lets other parts add a line to `dockvet version` (the
// vulnerability database reports its age).
var versionLines []func(g *globals) string

func newVersionCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:         "version",
		Short:       "Print the version, commit and database age",
		Args:        cobra.NoArgs,
		Annotations: map[string]string{"noConfig": "true"},
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(g.streams.Out, "dockvet %s\ncommit: %s\ngo: %s %s/%s\n", Version, commit(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
			for _, l := range versionLines {
				fmt.Fprintln(g.streams.Out, l(g))
			}
			return nil
		},
	}
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
