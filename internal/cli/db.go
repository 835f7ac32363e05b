package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/dockvet/dockvet/internal/vulndb"
)

var _ = register(newDBCmd)

func init() {
	versionLines = append(versionLines, dbVersionLine)
}

func newDBCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "db",
		Short: "Manage the local vulnerability database (OSV data)",
		Long: "Manage the local vulnerability database: OSV advisories stored in the cache directory\n" +
			"(--cache-dir, DOCKVET_CACHE_DIR, default the user cache directory), indexed by ecosystem and package.",
		Annotations: map[string]string{"noConfig": "true"},
		Args:        cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return fail("db needs a subcommand: update, import FILE|DIR or status (see 'dockvet db --help')")
		},
	}
	cmd.AddCommand(newDBUpdateCmd(g), newDBImportCmd(g), newDBStatusCmd(g))
	return cmd
}

// interruptible is ctx cancelled on Ctrl-C, so that an interrupted
// download stops at once (and leaves the old data in place).
func interruptible(ctx context.Context) (context.Context, context.CancelFunc) {
	if ctx == nil {
		ctx = context.Background()
	}
	return signal.NotifyContext(ctx, os.Interrupt)
}

func newDBUpdateCmd(g *globals) *cobra.Command {
	var ecosystems []string
	var baseURL string
	cmd := &cobra.Command{
		Use:   "update",
		Short: "Download OSV's per-ecosystem exports into the database",
		Long: "Download OSV's per-ecosystem all.zip exports. Without --ecosystem, the ecosystems the database already holds are\n" +
			"refreshed (on first use: every ecosystem dockvet finds packages of: " + strings.Join(vulndb.Supported, ", ") + ").\n" +
			"An unchanged export is not downloaded again (conditional requests). Data is replaced only once an export is\n" +
			"downloaded and read whole: an interrupted update leaves the previous data in use.\n" +
			"The export location is --base-url, else DOCKVET_DB_URL, else " + vulndb.DefaultBaseURL + ".",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if g.offline {
				return fail("db update: --offline forbids downloading; use 'dockvet db import FILE' with an OSV export")
			}
			dir, err := g.CacheDir()
			if err != nil {
				return err
			}
			if baseURL == "" {
				baseURL = os.Getenv("DOCKVET_DB_URL")
			}
			ctx, stop := interruptible(cmd.Context())
			defer stop()
			opt := vulndb.UpdateOptions{BaseURL: baseURL, Ecosystems: splitList(ecosystems), Now: g.now}
			var bars *downloadBars
			if g.progress() {
				bars = newDownloadBars(g.streams.Err)
				opt.Progress = bars.update
			}
			results, err := vulndb.Update(ctx, dir, opt)
			if bars != nil {
				bars.wait()
			}
			if err != nil {
				if errors.Is(err, context.Canceled) {
					return fail("db update interrupted; the previous data is still in use")
				}
				return fail("db update: %v", err)
			}
			failed := 0
			for _, r := range results {
				switch {
				case r.Err != nil:
					failed++
					fmt.Fprintf(g.streams.Err, "dockvet: %s: %s\n", r.Ecosystem, oneLine(r.Err.Error()))
				case r.Unchanged:
					g.say("%s: unchanged since %s (%s records)", r.Ecosystem, r.Meta.Updated.UTC().Format(time.DateOnly), thousands(r.Meta.Records))
				default:
					line := fmt.Sprintf("%s: updated, %s records", r.Ecosystem, thousands(r.Meta.Records))
					if r.Skipped > 0 {
						line += fmt.Sprintf(" (%d unreadable files skipped)", r.Skipped)
					}
					g.say("%s", line)
				}
			}
			if failed > 0 {
				return &exitError{code: ExitError}
			}
			return nil
		},
	}
	cmd.Flags().StringSliceVar(&ecosystems, "ecosystem", nil, "OSV ecosystems to fetch (comma-separated or repeated), e.g. Debian,npm")
	cmd.Flags().StringVar(&baseURL, "base-url", "", "where the OSV exports are: BASE/ECOSYSTEM/all.zip (default "+vulndb.DefaultBaseURL+")")
	return cmd
}

func newDBImportCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "import FILE|DIR",
		Short: "Import OSV records from an all.zip export, any zip of OSV JSON files, or a directory",
		Long: "Import OSV records from an OSV all.zip export, any zip of OSV JSON files, a directory of them, or one JSON file.\n" +
			"Records are merged into the database: a record replaces an earlier copy with the same ID, a withdrawn record removes it.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := g.CacheDir()
			if err != nil {
				return err
			}
			ctx, stop := interruptible(cmd.Context())
			defer stop()
			res, err := vulndb.Import(ctx, dir, args[0], g.now())
			if err != nil {
				if errors.Is(err, context.Canceled) {
					return fail("db import interrupted; the previous data is still in use")
				}
				return fail("%s: %v", args[0], unwrap(err))
			}
			for _, s := range res.Skipped {
				g.notice("%s: %s: skipped: %s", args[0], s.Name, s.Err)
			}
			if n := res.SkippedCount - len(res.Skipped); n > 0 {
				g.notice("%s: %d more files skipped", args[0], n)
			}
			var ecos []string
			for _, m := range res.Ecosystems {
				ecos = append(ecos, fmt.Sprintf("%s (%s records)", m.Ecosystem, thousands(m.Records)))
			}
			g.say("imported %s records from %s into %s", thousands(res.Records), args[0], strings.Join(ecos, ", "))
			return nil
		},
	}
}

func newDBStatusCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show the database's ecosystems, record counts and age",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			format, err := g.checkFormat([]string{"table", "json"})
			if err != nil {
				return err
			}
			dir, err := g.CacheDir()
			if err != nil {
				return err
			}
			st, err := vulndb.ReadStatus(dir)
			if err != nil {
				return fail("%v", err)
			}
			if format == "json" {
				return g.writeJSON(statusJSON(st, g.now()))
			}
			out := g.streams.Out
			if len(st.Ecosystems) == 0 {
				fmt.Fprintf(out, "no vulnerability database in %s (run 'dockvet db update' or 'dockvet db import FILE')\n", st.Dir)
				return nil
			}
			fmt.Fprintf(out, "vulnerability database: %s\n", st.Dir)
			tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ECOSYSTEM\tRECORDS\tPACKAGES\tUPDATED\tAGE\tSOURCE")
			for _, m := range st.Ecosystems {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", m.Ecosystem, thousands(m.Records), thousands(m.Packages),
					m.Updated.UTC().Format("2006-01-02 15:04 UTC"), age(g.now().Sub(m.Fresh())), m.Source)
			}
			tw.Flush()
			return nil
		},
	}
}

type ecosystemStatus struct {
	Ecosystem string    `json:"ecosystem"`
	Records   int       `json:"records"`
	Packages  int       `json:"packages"`
	Updated   time.Time `json:"updated"`
	Checked   time.Time `json:"checked"`
	AgeHours  float64   `json:"ageHours"`
	Source    string    `json:"source"`
}

func statusJSON(st vulndb.Status, now time.Time) any {
	ecos := []ecosystemStatus{}
	for _, m := range st.Ecosystems {
		ecos = append(ecos, ecosystemStatus{Ecosystem: m.Ecosystem, Records: m.Records, Packages: m.Packages,
			Updated: m.Updated.UTC(), Checked: m.Checked.UTC(), AgeHours: now.Sub(m.Fresh()).Hours(), Source: m.Source})
	}
	return map[string]any{"dir": st.Dir, "ecosystems": ecos}
}

func (g *globals) writeJSON(v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fail("%v", err)
	}
	return g.write(append(b, '\n'))
}

// dbVersionLine is `dockvet version`'s line about the database.
func dbVersionLine(g *globals) string {
	dir, err := g.CacheDir()
	if err != nil {
		return "vulnerability database: no cache directory"
	}
	st, err := vulndb.ReadStatus(dir)
	if err != nil {
		return "vulnerability database: unreadable (" + oneLine(err.Error()) + ")"
	}
	if len(st.Ecosystems) == 0 {
		return "vulnerability database: none (run 'dockvet db update')"
	}
	oldest := st.Oldest()
	return fmt.Sprintf("vulnerability database: %s, %s records, oldest data from %s (%s ago)",
		plural(len(st.Ecosystems), "ecosystem"), thousands(st.Records()), oldest.UTC().Format("2006-01-02 15:04 UTC"), age(g.now().Sub(oldest)))
}

// say prints a result line on standard output unless --quiet.
func (g *globals) say(format string, args ...any) {
	if !g.quiet {
		fmt.Fprintf(g.streams.Out, format+"\n", args...)
	}
}

// splitList accepts "a,b" and repeated flags alike.
func splitList(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// age is a duration for people: "5 minutes", "3 hours", "12 days".
func age(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "less than a minute"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute")
	case d < 48*time.Hour:
		return plural(int(d/time.Hour), "hour")
	}
	return plural(int(d/(24*time.Hour)), "day")
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// thousands writes n with thousands separators: 300,000.
func thousands(n int) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// downloadBars draws one progress bar per export on a terminal.
type downloadBars struct {
	p    *mpb.Progress
	bars map[string]*mpb.Bar
}

func newDownloadBars(w io.Writer) *downloadBars {
	return &downloadBars{p: mpb.New(mpb.WithOutput(w), mpb.WithWidth(40)), bars: map[string]*mpb.Bar{}}
}

func (d *downloadBars) update(eco string, done, total int64) {
	b := d.bars[eco]
	if b == nil {
		b = d.p.AddBar(max(total, 0),
			mpb.PrependDecorators(decor.Name(eco, decor.WC{C: decor.DindentRight | decor.DextraSpace})),
			mpb.AppendDecorators(decor.Counters(decor.SizeB1024(0), "% .1f / % .1f")),
		)
		d.bars[eco] = b
	}
	if total <= 0 {
		b.SetTotal(done+1, false)
	}
	b.SetCurrent(done)
	if total > 0 && done >= total {
		b.SetTotal(total, true)
	}
}

func (d *downloadBars) wait() {
	for _, b := range d.bars {
		if !b.Completed() {
			b.Abort(false)
		}
	}
	d.p.Wait()
}
