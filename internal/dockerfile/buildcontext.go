package dockerfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/dockvet/dockvet/internal/safefile"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	bkshell "github.com/moby/buildkit/frontend/dockerfile/shell"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/secrets"
)

// BuildContext is the part of a build context directory that `docker build`
// sends: every regular file that the ignore file does not exclude, with the
// rules BuildKit applies.
type BuildContext struct {
	// Dir is the context directory.
	Dir string
	// Files are the files sent, slash-separated, relative to Dir, sorted.
	Files []string

	// scans holds the secret scan of each file, shared by every context of
	// the run; scanned is set once every file of Files has one.
	mu      sync.Mutex
	scans   *Contexts
	scanned bool
	// withSecrets are the indexes in Files of the files that hold a
	// secret, ascending; complete once scanned is set.
	withSecrets []int
	// done marks the files whose scan withSecrets already reflects.
	done []bool
}

// maxContextFiles bounds the walk of a context: a context of more files
// than this is a mistake (a home directory, a disk) and is not walked.
const maxContextFiles = 200_000

// contextFileLimit is maxContextFiles, lowered by tests that cannot write
// 200,000 files.
var contextFileLimit = maxContextFiles

var errContextTooLarge = fmt.Errorf("build context has more than %d files (maxContextFiles): not walked, its files were not scanned for secrets", maxContextFiles)

// Contexts loads each build context once per run and scans each of its
// files for secrets once, however many Dockerfiles share it: a monorepo
// with a thousand Dockerfiles at its root walks its tree once, not a
// thousand times. A context is keyed by its directory and the ignore file
// that applies (two Dockerfiles with different <Dockerfile>.dockerignore
// files send different contexts); a file's secrets are keyed by its path,
// so contexts that differ only in what they ignore share the scans of the
// files they both send. A Contexts is for one run: files changed during it
// are not read again. It is safe for concurrent use.
type Contexts struct {
	mu      sync.Mutex
	dirs    map[string]*dirFacts
	loaded  map[contextKey]*loadedContext
	secrets map[string][]secrets.Match
	// problems are what could not be read (path → why): the audit is
	// incomplete, and the run must say so rather than skip in silence.
	problems map[string]string
	// listings are the names in the directories of the run's
	// Dockerfiles (nil: not listed), so that a thousand Dockerfiles in
	// one directory do not each try to open a <Dockerfile>.dockerignore
	// that is not there.
	listings map[string]map[string]bool
}

// maxListing bounds the names kept of one directory: past it, a
// directory's files are looked for one by one.
const maxListing = 100_000

// mayExist reports whether name can be in its directory: false only when
// the directory's listing, read once per run, does not hold it.
func (c *Contexts) mayExist(name string) bool {
	dir, base := filepath.Split(name)
	c.mu.Lock()
	names, ok := c.listings[dir]
	if !ok {
		names = listNames(dir)
		c.listings[dir] = names
	}
	c.mu.Unlock()
	return names == nil || names[base]
}

// listNames lists a directory's names, or nil when it cannot or they are
// too many.
func listNames(dir string) map[string]bool {
	if dir == "" {
		dir = "."
	}
	d, err := os.Open(dir)
	if err != nil {
		return nil
	}
	defer d.Close()
	list, err := d.Readdirnames(maxListing + 1)
	if err != nil && !errors.Is(err, io.EOF) || len(list) > maxListing {
		return nil
	}
	names := make(map[string]bool, len(list))
	for _, n := range list {
		names[n] = true
	}
	return names
}

// Problem is a part of a build context that was not read.
type Problem struct{ Path, Msg string }

// Problems lists what the run's contexts could not read, by path.
func (c *Contexts) Problems() []Problem {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Problem
	for p, m := range c.problems {
		out = append(out, Problem{p, m})
	}
	slices.SortFunc(out, func(a, b Problem) int { return strings.Compare(a.Path, b.Path) })
	return out
}

func (c *Contexts) problem(path, msg string) {
	c.mu.Lock()
	c.problems[path] = msg
	c.mu.Unlock()
}

type contextKey struct{ dir, ignoreFile string }

type loadedContext struct {
	bc  *BuildContext
	err error
}

// NewContexts returns an empty store for one run.
func NewContexts() *Contexts {
	return &Contexts{dirs: map[string]*dirFacts{}, loaded: map[contextKey]*loadedContext{}, secrets: map[string][]secrets.Match{}, problems: map[string]string{}, listings: map[string]map[string]bool{}}
}

// Load returns the context a build of dockerfile in dir sends, walking dir
// the first time a directory and ignore file are asked for.
func (c *Contexts) Load(dir, dockerfile string) (*BuildContext, error) {
	// What the directory gives every Dockerfile (that it is one, its
	// absolute path, its .dockerignore) is read once; only the
	// Dockerfile's own ignore file is looked for each time.
	c.mu.Lock()
	d, ok := c.dirs[dir]
	if !ok {
		d = &dirFacts{abs: filepath.Clean(dir)}
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			d.notDir = true
		} else {
			if abs, err := filepath.Abs(d.abs); err == nil {
				d.abs = abs
			}
			d.patterns, d.ignoreFile, d.err = readIgnoreFile(filepath.Join(dir, ".dockerignore"))
		}
		c.dirs[dir] = d
	}
	c.mu.Unlock()
	if d.notDir {
		return nil, errNotDir
	}
	patterns, ignoreFile, err := d.patterns, d.ignoreFile, d.err
	if dockerfile != "" && c.mayExist(dockerfile+".dockerignore") {
		// <Dockerfile>.dockerignore wins over the context's, even empty.
		p, name, perr := readIgnoreFile(dockerfile + ".dockerignore")
		switch {
		case perr == nil:
			patterns, ignoreFile, err = p, name, nil
		case !errors.Is(perr, fs.ErrNotExist):
			return nil, perr
		}
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	key := contextKey{d.abs, ignoreFile}
	c.mu.Lock()
	defer c.mu.Unlock()
	if l, ok := c.loaded[key]; ok {
		return l.bc, l.err
	}
	bc, unread, err := walkContext(dir, patterns, ignoreFile)
	if bc != nil {
		bc.scans = c
	}
	for p, m := range unread {
		c.problems[p] = m
	}
	if errors.Is(err, errContextTooLarge) {
		c.problems[dir] = err.Error()
	}
	c.loaded[key] = &loadedContext{bc, err}
	return bc, err
}

// dirFacts is what a context directory gives every Dockerfile.
type dirFacts struct {
	abs        string
	notDir     bool
	patterns   []string
	ignoreFile string
	err        error // reading .dockerignore (fs.ErrNotExist: there is none)
}

var errNotDir = errors.New("not a directory")

// LoadBuildContext lists the files of dir that a build of dockerfile would
// send. Symbolic links are sent as links: their targets are not part of
// the context and are not listed.
func LoadBuildContext(dir, dockerfile string) (*BuildContext, error) {
	return NewContexts().Load(dir, dockerfile)
}

// walkContext walks dir once with the ignore patterns of ignoreFile.
func walkContext(dir string, patterns []string, ignoreFile string) (*BuildContext, map[string]string, error) {
	bc := &BuildContext{Dir: dir}
	unread := map[string]string{}
	var pm *patternmatcher.PatternMatcher
	var err error
	if len(patterns) > 0 {
		if pm, err = patternmatcher.New(patterns); err != nil {
			return nil, nil, &Error{Path: ignoreFile, Err: err}
		}
	}
	// The match results of each directory, for its children (BuildKit's
	// file sender walks the same way).
	parents := map[string]patternmatcher.MatchInfo{}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == dir {
				return err
			}
			// BuildKit would fail on it; the audit cannot see into it.
			unread[p] = "not read: " + unwrapPath(err).Error()
			return nil
		}
		if p == dir {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		excluded := false
		if pm != nil {
			var info patternmatcher.MatchInfo
			excluded, info, err = pm.MatchesUsingParentResults(rel, parents[path.Dir(rel)])
			if err != nil {
				return err
			}
			if d.IsDir() {
				parents[rel] = info
			}
		}
		switch {
		case d.IsDir():
			// An excluded directory is still walked when a later "!"
			// pattern may bring part of it back.
			if excluded && !pm.Exclusions() {
				return filepath.SkipDir
			}
		case !excluded && d.Type().IsRegular():
			if len(bc.Files) == contextFileLimit {
				return errContextTooLarge
			}
			bc.Files = append(bc.Files, rel)
		}
		return nil
	})
	if err != nil {
		return nil, unread, err
	}
	slices.Sort(bc.Files)
	bc.done = make([]bool, len(bc.Files))
	return bc, unread, nil
}

// readIgnoreFile reads an ignore file's patterns; fs.ErrNotExist when
// there is none.
func readIgnoreFile(name string) ([]string, string, error) {
	data, err := safefile.ReadFile(name, safefile.MaxConfig)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "", err
	}
	if err != nil {
		return nil, name, &Error{Path: name, Err: errors.New(safefile.Message(err))}
	}
	patterns, err := ignorefile.ReadAll(bytes.NewReader(data))
	if err != nil {
		return nil, name, &Error{Path: name, Err: err}
	}
	return patterns, name, nil
}

// Copied returns the files of the context that a COPY or ADD source brings
// into the image: the source itself, every file under it when it is a
// directory, or the files and directories its wildcards match; excludes are
// the instruction's --exclude patterns.
func (bc *BuildContext) Copied(src string, excludes []string) []string {
	var out []string
	bc.copied(src, excludes, nil, false, func(i int) { out = append(out, bc.Files[i]) })
	return out
}

// copied calls fn with the index of every file src brings in, in order.
// With restrict, only the indexes in among (ascending) are considered: a
// Dockerfile asks for the files that hold secrets, not for all of them, so
// its cost does not grow with the size of the context.
func (bc *BuildContext) copied(src string, excludes []string, among []int, restrict bool, fn func(i int)) {
	src = strings.TrimLeft(filepath.ToSlash(src), "/")
	src = path.Clean("/" + src)[1:]
	var ex *patternmatcher.PatternMatcher
	if len(excludes) > 0 {
		ex, _ = patternmatcher.New(excludes)
	}
	excluded := func(rel string) bool {
		if ex == nil {
			return false
		}
		ok, err := ex.MatchesOrParentMatches(rel)
		return err == nil && ok
	}
	wild := strings.ContainsAny(src, `*?[\`)
	segs := strings.Split(src, "/")
	lo, hi := bc.span(src, wild)
	visit := func(i int) {
		f := bc.Files[i]
		root := ""
		switch {
		case src == "":
		case wild:
			fsegs := strings.Split(f, "/")
			if len(fsegs) < len(segs) || !globSegments(segs, fsegs[:len(segs)]) {
				return
			}
			root = strings.Join(fsegs[:len(segs)], "/")
		case f == src:
			root = f
		case strings.HasPrefix(f, src+"/"):
			root = src
		default:
			return
		}
		// --exclude patterns apply to paths under the source.
		rel := strings.TrimPrefix(strings.TrimPrefix(f, root), "/")
		if rel == "" {
			rel = path.Base(f)
		}
		if !excluded(rel) {
			fn(i)
		}
	}
	if !restrict {
		for i := lo; i < hi; i++ {
			visit(i)
		}
		return
	}
	start, _ := slices.BinarySearch(among, lo)
	for _, i := range among[start:] {
		if i >= hi {
			break
		}
		visit(i)
	}
}

// span is the range of Files a source can bring in. The files at or under
// a plain path sort together, with only names that extend it by a byte
// below "/" ("src-old/x", "src.go") among them; a wildcard can match
// anywhere.
func (bc *BuildContext) span(src string, wild bool) (int, int) {
	if src == "" || wild {
		return 0, len(bc.Files)
	}
	lo, _ := slices.BinarySearch(bc.Files, src)
	hi, _ := slices.BinarySearch(bc.Files, src+"0") // '0' follows '/'
	return lo, hi
}

// withSecretsIn returns the indexes of the files that hold a secret among
// those in [lo, hi), ascending, scanning each file of the run once (the
// list may name files outside the range: callers filter).
func (bc *BuildContext) withSecretsIn(lo, hi int) []int {
	bc.mu.Lock()
	defer bc.mu.Unlock()
	if bc.scanned {
		return bc.withSecrets
	}
	added := false
	for i := lo; i < hi; i++ {
		if bc.done[i] {
			continue
		}
		bc.done[i] = true
		if len(bc.secretsOf(bc.Files[i])) > 0 {
			bc.withSecrets = append(bc.withSecrets, i)
			added = true
		}
	}
	if added {
		slices.Sort(bc.withSecrets)
	}
	if lo == 0 && hi == len(bc.Files) {
		bc.scanned, bc.done = true, nil
	}
	return slices.Clip(bc.withSecrets)
}

// secretsOf scans a context file once for every context of the run.
// Dockerfiles are not scanned: their secrets are reported on their own
// instructions (DV1040-DV1046) wherever they are audited, this build's
// Dockerfile included. `COPY . .` copying one again adds nothing, and in
// a directory of N Dockerfiles would report each secret N times.
func (bc *BuildContext) secretsOf(rel string) []secrets.Match {
	if IsName(path.Base(rel)) {
		return nil
	}
	name := filepath.Join(bc.Dir, filepath.FromSlash(rel))
	if bc.scans != nil {
		bc.scans.mu.Lock()
		hits, ok := bc.scans.secrets[name]
		bc.scans.mu.Unlock()
		if ok {
			return hits
		}
	}
	var hits []secrets.Match
	if fh, err := safefile.Open(name); err == nil {
		matches, err := secrets.Default().ScanReader(fh, rel)
		fh.Close()
		if err == nil || len(matches) > 0 {
			hits = matches
		}
		if err != nil && bc.scans != nil {
			// The scan gave up part way (a read error, a budget): what
			// it did not see is not known to be clean.
			bc.scans.problem(name, "secret scan incomplete: "+safefile.Message(err))
		}
	} else if bc.scans != nil {
		// The build would fail on it too; the audit cannot see into it.
		bc.scans.problem(name, "not read: "+safefile.Message(err))
	}
	if bc.scans != nil {
		bc.scans.mu.Lock()
		bc.scans.secrets[name] = hits
		bc.scans.mu.Unlock()
	}
	return hits
}

// globSegments matches path segments one by one, as COPY's wildcards do.
func globSegments(pattern, segs []string) bool {
	for i, p := range pattern {
		ok, err := path.Match(p, segs[i])
		if err != nil || !ok {
			return false
		}
	}
	return true
}

var ruleContextSecret = &Rule{
	Rule: finding.Rule{
		ID: "DV1047", Title: "Secret in the build context", Practice: finding.PracticeSecrets, Severity: finding.High, CIS: "4.10",
		Description: "A file that a COPY or ADD would bring into the image holds a secret (a private key, a token, a password in a configuration file). " +
			"The build context is read as BuildKit reads it, .dockerignore (or <Dockerfile>.dockerignore) included, so the finding names " +
			"exactly what would be baked in: the file, the line of the secret, and the COPY that copies it. The severity is that of the secret, " +
			"at most medium when only a build stage the final image copies nothing from gets the file. " +
			"Dockerfiles in the context are left to the Dockerfile rules (DV1040-DV1046), which report their secrets where they are written.",
		Remediation: "Keep the file out of the image: list it in .dockerignore, copy only what the build needs (COPY src/ ./src/ rather than COPY . .), " +
			"and pass the credential at build time with `RUN --mount=type=secret` or at run time. Rotate the secret if the image was ever pushed.",
		References: []string{"https://docs.docker.com/build/concepts/context/#dockerignore-files", "https://docs.docker.com/build/building/secrets/"},
	},
	Check: func(p *Pass) {
		dir := p.contextDir()
		contexts := p.Contexts
		if contexts == nil {
			contexts = NewContexts()
		}
		bc, err := contexts.Load(dir, p.File.Path)
		if err != nil {
			// No directory: nothing is copied. Anything else (a context
			// over the limit, an unreadable .dockerignore) leaves the
			// context unaudited, which the run reports.
			if !errors.Is(err, errNotDir) && !errors.Is(err, errContextTooLarge) {
				contexts.problem(dir, safefile.Message(err))
			}
			return
		}
		reported := map[int]bool{}
		// A file copied into the final image and into a build stage is
		// reported once, at the COPY that ships it.
		shipped := p.File.shipped()
		var order []*Stage
		for _, st := range p.File.Stages {
			if shipped[st] {
				order = append(order, st)
			}
		}
		for _, st := range p.File.Stages {
			if !shipped[st] {
				order = append(order, st)
			}
		}
		for _, st := range order {
			for _, in := range st.Instructions {
				sd, excludes, ok := contextSources(in)
				if !ok {
					continue
				}
				for _, src := range sd.SourcePaths {
					src, ok := expandSource(p.File, st, in, src)
					if !ok {
						continue
					}
					report := func(i int) {
						if !reported[i] {
							reported[i] = true
							p.reportContextFile(bc, bc.Files[i], in, shipped)
						}
					}
					// Only the files that hold a secret are matched
					// against the source: a Dockerfile costs what it
					// copies that matters, not the size of the context.
					if rel := strings.TrimLeft(filepath.ToSlash(src), "/"); strings.ContainsAny(rel, `*?[\`) {
						bc.copied(src, excludes, nil, false, func(i int) {
							if len(bc.secretsOf(bc.Files[i])) > 0 {
								report(i)
							}
						})
					} else {
						lo, hi := bc.span(path.Clean("/" + rel)[1:], false)
						bc.copied(src, excludes, bc.withSecretsIn(lo, hi), true, report)
					}
				}
			}
		}
	},
}

// contextSources returns the sources of a COPY or ADD that come from the
// build context (not another stage, an image, a URL or a here-document).
func contextSources(in *Instruction) (*instructions.SourcesAndDest, []string, bool) {
	switch c := in.Command.(type) {
	case *instructions.CopyCommand:
		if c.From != "" {
			return nil, nil, false
		}
		return &c.SourcesAndDest, c.ExcludePatterns, true
	case *instructions.AddCommand:
		return &c.SourcesAndDest, c.ExcludePatterns, true
	}
	return nil, nil, false
}

// expandSource substitutes the ARG and ENV values known before in, as
// BuildKit does for COPY sources; a source naming a URL, a Git repository
// or an unknown variable is not a context path.
func expandSource(f *File, st *Stage, in *Instruction, src string) (string, bool) {
	if strings.Contains(src, "://") || strings.HasPrefix(src, "git@") {
		return "", false
	}
	if !strings.ContainsRune(src, '$') {
		return src, true
	}
	env := envMap{}
	for _, a := range f.MetaArgs {
		if c, ok := a.Command.(*instructions.ArgCommand); ok {
			for _, kv := range c.Args {
				if kv.Value != nil {
					env[kv.Key] = *kv.Value
				}
			}
		}
	}
	for _, x := range st.Instructions {
		if x == in {
			break
		}
		switch c := x.Command.(type) {
		case *instructions.ArgCommand:
			for _, kv := range c.Args {
				if kv.Value != nil {
					env[kv.Key] = *kv.Value
				}
			}
		case *instructions.EnvCommand:
			for _, kv := range c.Env {
				env[kv.Key] = kv.Value
			}
		}
	}
	res, err := bkshell.NewLex(f.Escape).ProcessWordWithMatches(src, env)
	if err != nil || len(res.Unmatched) > 0 {
		return "", false
	}
	return res.Result, true
}

// reportContextFile reports each secret of one context file against the
// file and line, naming the instruction that copies it.
func (p *Pass) reportContextFile(bc *BuildContext, rel string, in *Instruction, shipped map[*Stage]bool) {
	file := filepath.Join(bc.Dir, filepath.FromSlash(rel))
	for _, h := range bc.secretsOf(rel) {
		// The location names the file in full; the message names it as the
		// build context does, next to the instruction that copies it.
		msg := strings.TrimSuffix(h.Describe(rel), ".") + "; `" + instructionText(in) + "` on line " + strconv.Itoa(in.Line) + " copies it into the image."
		f := p.Emit(finding.Location{Path: file, Line: h.Line, Column: h.Column}, "%s", msg)
		f.Severity = h.Severity
		f.Fingerprint = h.Fingerprint()
		exposure(f, in.Stage, shipped)
	}
}

// instructionText is the instruction as written, on one line and short
// enough for a message.
func instructionText(in *Instruction) string {
	s := strings.Join(strings.Fields(in.Original), " ")
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}
