package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/dockvet/dockvet/internal/inventory"
	"github.com/dockvet/dockvet/internal/sbom"
	"github.com/dockvet/dockvet/internal/vulndb"
)

// NewCmdDB groups the vulnerability database's subcommands.
func NewCmdDB(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "db",
		Short: "Manage the local vulnerability database (OSV data)",
		Long: "Manage the local vulnerability database: OSV advisories stored in the cache directory\n" +
			"(--cache-dir, DOCKVET_CACHE_DIR, default the user cache directory), indexed by ecosystem and package.",
		Annotations: map[string]string{noConfig: "true"},
		Args:        cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return fail("db needs a subcommand: update, import FILE|DIR or status (see 'dockvet db --help')")
		},
	}
	cmd.AddCommand(NewCmdDBUpdate(f, nil), NewCmdDBImport(f, nil), NewCmdDBStatus(f, nil))
	return cmd
}

// DBUpdateOptions are those of `dockvet db update`.
type DBUpdateOptions struct {
	*Shared
	Ecosystems []string
	// BaseURL is where the exports are; empty: DOCKVET_DB_URL, else OSV's.
	BaseURL string
}

// NewCmdDBUpdate downloads OSV's exports into the database.
func NewCmdDBUpdate(f *Factory, runF func(*DBUpdateOptions) error) *cobra.Command {
	opts := &DBUpdateOptions{Shared: f.Shared}
	cmd := &cobra.Command{
		Use:   "update",
		Short: "Download OSV's per-ecosystem exports into the database",
		Long: "Download OSV's per-ecosystem all.zip exports. Without --ecosystems, the ecosystems the database already holds are\n" +
			"refreshed (on first use: every ecosystem dockvet finds packages of: " + strings.Join(vulndb.Supported, ", ") + ").\n" +
			"'dockvet db status IMAGE' says which ecosystems an image needs. An unchanged export is not downloaded again\n" +
			"(conditional requests). Data is replaced only once an export is downloaded and read whole: an interrupted update\n" +
			"leaves the previous data in use. The export location is --base-url, else DOCKVET_DB_URL, else\n" +
			vulndb.DefaultBaseURL + " (BASE/ECOSYSTEM/all.zip). Without network: download the exports on another machine\n" +
			"and 'dockvet db import' them, or copy the cache directory's vulndb/ (see the README).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runDBUpdate(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringSliceVar(&opts.Ecosystems, "ecosystems", nil, "OSV ecosystems to fetch (comma-separated or repeated), e.g. Debian,npm")
	cmd.Flags().StringSliceVar(&opts.Ecosystems, "ecosystem", nil, "the same as --ecosystems")
	cmd.Flags().StringVar(&opts.BaseURL, "base-url", "", "where the OSV exports are: BASE/ECOSYSTEM/all.zip (default "+vulndb.DefaultBaseURL+")")
	return cmd
}

func runDBUpdate(ctx context.Context, opts *DBUpdateOptions) error {
	if opts.Offline {
		return fail("db update: --offline forbids downloading; use 'dockvet db import FILE' with an OSV export")
	}
	dir, err := opts.cacheDir()
	if err != nil {
		return err
	}
	baseURL := opts.BaseURL
	if baseURL == "" {
		baseURL = os.Getenv("DOCKVET_DB_URL")
	}
	ctx, stop := interruptible(ctx)
	defer stop()
	opt := vulndb.UpdateOptions{BaseURL: baseURL, Ecosystems: splitList(opts.Ecosystems), Now: opts.Now}
	bars := opts.downloadProgress()
	if bars != nil {
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
		// An unreachable server is one line, whatever the number of
		// ecosystems.
		return fail("db update: %v", err)
	}
	failed := 0
	for _, r := range results {
		switch {
		case r.Err != nil:
			failed++
			fmt.Fprintf(opts.IO.Err, "dockvet: %s: %s\n", r.Ecosystem, oneLine(r.Err.Error()))
		case r.Unchanged:
			opts.say("%s: unchanged since %s (%s records)", r.Ecosystem, r.Meta.Updated.UTC().Format(time.DateOnly), thousands(r.Meta.Records))
		default:
			line := fmt.Sprintf("%s: updated, %s records", r.Ecosystem, thousands(r.Meta.Records))
			if r.Skipped > 0 {
				line += fmt.Sprintf(" (%d unreadable files skipped)", r.Skipped)
			}
			opts.say("%s", line)
		}
	}
	if failed > 0 {
		return &exitError{code: ExitError}
	}
	return nil
}

// DBImportOptions are those of `dockvet db import`.
type DBImportOptions struct {
	*Shared
	// Path is an OSV export, a zip or a directory of OSV JSON, or one file.
	Path string
}

// NewCmdDBImport imports OSV records from a file or a directory.
func NewCmdDBImport(f *Factory, runF func(*DBImportOptions) error) *cobra.Command {
	opts := &DBImportOptions{Shared: f.Shared}
	return &cobra.Command{
		Use:   "import FILE|DIR",
		Short: "Import OSV records from an all.zip export, any zip of OSV JSON files, or a directory",
		Long: "Import OSV records from an OSV all.zip export, any zip of OSV JSON files, a directory of them, or one JSON file.\n" +
			"Records are merged into the database: a record replaces an earlier copy with the same ID, a withdrawn record removes it.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Path = args[0]
			if runF != nil {
				return runF(opts)
			}
			return runDBImport(cmd.Context(), opts)
		},
	}
}

func runDBImport(ctx context.Context, opts *DBImportOptions) error {
	dir, err := opts.cacheDir()
	if err != nil {
		return err
	}
	ctx, stop := interruptible(ctx)
	defer stop()
	res, err := vulndb.Import(ctx, dir, opts.Path, opts.Now())
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return fail("db import interrupted; the previous data is still in use")
		}
		return fail("%s: %v", opts.Path, unwrap(err))
	}
	for _, s := range res.Skipped {
		opts.notice("%s: %s: skipped: %s", opts.Path, s.Name, s.Err)
	}
	if n := res.SkippedCount - len(res.Skipped); n > 0 {
		opts.notice("%s: %d more files skipped", opts.Path, n)
	}
	var ecos []string
	for _, m := range res.Ecosystems {
		ecos = append(ecos, fmt.Sprintf("%s (%s records)", m.Ecosystem, thousands(m.Records)))
	}
	opts.say("imported %s records from %s into %s", thousands(res.Records), opts.Path, strings.Join(ecos, ", "))
	return nil
}

// DBStatusOptions are those of `dockvet db status`.
type DBStatusOptions struct {
	*Shared
	// Ref, when set, is an image (or a directory tree) whose packages'
	// ecosystems the status compares with what the database holds.
	Ref string
}

// NewCmdDBStatus shows what the database holds and how old it is, and
// what an image would need.
func NewCmdDBStatus(f *Factory, runF func(*DBStatusOptions) error) *cobra.Command {
	opts := &DBStatusOptions{Shared: f.Shared}
	cmd := &cobra.Command{
		Use:   "status [IMAGE|DIR]",
		Short: "Show the database's ecosystems, record counts and age, and which ecosystems an image needs",
		Long: "Show the database's ecosystems, record counts and age. With an image (any form 'dockvet image' takes) or a\n" +
			"directory tree, also list the ecosystems of its packages, which of them the database has no data for, and the\n" +
			"command that fetches them: what to download before carrying the database to a machine without network.",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Ref = args[0]
			}
			if runF != nil {
				return runF(opts)
			}
			return runDBStatus(cmd.Context(), opts)
		},
	}
	opts.bindEngine(cmd.Flags())
	return cmd
}

// ecosystemNeed is one ecosystem of an image's packages.
type ecosystemNeed struct {
	Ecosystem string `json:"ecosystem"`
	Packages  int    `json:"packages"`
	InDB      bool   `json:"inDatabase"`
}

// needsOf lists the ecosystems of inv's packages against the database.
func needsOf(inv *inventory.Result, st vulndb.Status) ([]ecosystemNeed, []string) {
	have := map[string]bool{}
	for _, m := range st.Ecosystems {
		have[m.Ecosystem] = true
	}
	count := map[string]int{}
	for _, p := range inv.Packages {
		if p.Ecosystem != "" {
			base, _, _ := strings.Cut(p.Ecosystem, ":")
			count[base]++
		}
	}
	var needs []ecosystemNeed
	var missing []string
	for _, eco := range vulndb.Ecosystems(inv.Packages) {
		needs = append(needs, ecosystemNeed{Ecosystem: eco, Packages: count[eco], InDB: have[eco]})
		if !have[eco] {
			missing = append(missing, eco)
		}
	}
	return needs, missing
}

func runDBStatus(ctx context.Context, opts *DBStatusOptions) error {
	format, err := opts.checkFormat([]string{"table", "json"})
	if err != nil {
		return err
	}
	dir, err := opts.cacheDir()
	if err != nil {
		return err
	}
	st, err := vulndb.ReadStatus(dir)
	if err != nil {
		return fail("%v", err)
	}
	var (
		needs   []ecosystemNeed
		missing []string
		subject sbom.Subject
	)
	if opts.Ref != "" {
		ctx, stop := interruptible(ctx)
		defer stop()
		var inv *inventory.Result
		if subject, inv, err = inventoryOf(ctx, opts.Shared, opts.Ref); err != nil {
			return err
		}
		needs, missing = needsOf(inv, st)
	}
	now := opts.Now()
	if format == "json" {
		doc := statusJSON(st, now)
		if opts.Ref != "" {
			doc["target"] = map[string]any{"name": subject.Name, "needs": append([]ecosystemNeed{}, needs...), "missing": append([]string{}, missing...)}
		}
		return opts.writeJSON(doc)
	}
	var buf bytes.Buffer
	if len(st.Ecosystems) == 0 {
		fmt.Fprintf(&buf, "no vulnerability database in %s (run 'dockvet db update' or 'dockvet db import FILE')\n", st.Dir)
	} else {
		fmt.Fprintf(&buf, "vulnerability database: %s\n", st.Dir)
		tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ECOSYSTEM\tRECORDS\tPACKAGES\tUPDATED\tAGE\tSOURCE")
		for _, m := range st.Ecosystems {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", m.Ecosystem, thousands(m.Records), thousands(m.Packages),
				m.Updated.UTC().Format("2006-01-02 15:04 UTC"), age(now.Sub(m.Fresh())), m.Source)
		}
		tw.Flush()
	}
	if opts.Ref != "" {
		fmt.Fprintf(&buf, "\n%s needs:\n", subject.Name)
		tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ECOSYSTEM\tPACKAGES\tIN DATABASE")
		for _, n := range needs {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", n.Ecosystem, thousands(n.Packages), map[bool]string{true: "yes", false: "NO"}[n.InDB])
		}
		tw.Flush()
		switch {
		case len(needs) == 0:
			fmt.Fprintln(&buf, "no package of a known ecosystem")
		case len(missing) > 0:
			fmt.Fprintf(&buf, "missing: dockvet db update --ecosystems %s\n", strings.Join(missing, ","))
			fmt.Fprintf(&buf, "offline: fetch %s/{%s}/all.zip elsewhere and 'dockvet db import' each\n", vulndb.DefaultBaseURL, strings.Join(missing, ","))
		default:
			fmt.Fprintln(&buf, "the database has data for every ecosystem it needs")
		}
	}
	return opts.write(buf.Bytes())
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

func statusJSON(st vulndb.Status, now time.Time) map[string]any {
	ecos := []ecosystemStatus{}
	for _, m := range st.Ecosystems {
		ecos = append(ecos, ecosystemStatus{Ecosystem: m.Ecosystem, Records: m.Records, Packages: m.Packages,
			Updated: m.Updated.UTC(), Checked: m.Checked.UTC(), AgeHours: now.Sub(m.Fresh()).Hours(), Source: m.Source})
	}
	return map[string]any{"dir": st.Dir, "ecosystems": ecos}
}

// dbVersionLine is `dockvet version`'s line about the database.
func dbVersionLine(s *Shared) string {
	dir, err := s.cacheDir()
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
		plural(len(st.Ecosystems), "ecosystem"), thousands(st.Records()), oldest.UTC().Format("2006-01-02 15:04 UTC"), age(s.Now().Sub(oldest)))
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
