package dockerfile

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

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
}

// maxContextFiles bounds the walk of a context: a context of more files
// than this is a mistake (a home directory, a disk) and is not walked.
const maxContextFiles = 200_000

var errContextTooLarge = errors.New("build context has more than 200000 files")

// LoadBuildContext lists the files of dir that a build of dockerfile would
// send. Symbolic links are sent as links: their targets are not part of
// the context and are not listed.
func LoadBuildContext(dir, dockerfile string) (*BuildContext, error) {
	bc := &BuildContext{Dir: dir}
	patterns, ignoreFile, err := ignorePatterns(dir, dockerfile)
	if err != nil {
		return nil, err
	}
	var pm *patternmatcher.PatternMatcher
	if len(patterns) > 0 {
		if pm, err = patternmatcher.New(patterns); err != nil {
			return nil, &Error{Path: ignoreFile, Err: err}
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
			return nil // an unreadable entry is not sent either
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
			if len(bc.Files) == maxContextFiles {
				return errContextTooLarge
			}
			bc.Files = append(bc.Files, rel)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(bc.Files)
	return bc, nil
}

// ignorePatterns reads the ignore file BuildKit would use for dockerfile:
// <Dockerfile>.dockerignore next to the Dockerfile takes precedence over
// the context's .dockerignore, even when empty.
func ignorePatterns(dir, dockerfile string) ([]string, string, error) {
	candidates := []string{filepath.Join(dir, ".dockerignore")}
	if dockerfile != "" {
		candidates = slices.Insert(candidates, 0, dockerfile+".dockerignore")
	}
	for _, name := range candidates {
		f, err := os.Open(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, name, &Error{Path: name, Err: unwrapPath(err)}
		}
		patterns, err := ignorefile.ReadAll(f)
		f.Close()
		if err != nil {
			return nil, name, &Error{Path: name, Err: err}
		}
		return patterns, name, nil
	}
	return nil, "", nil
}

// Copied returns the files of the context that a COPY or ADD source brings
// into the image: the source itself, every file under it when it is a
// directory, or the files and directories its wildcards match; excludes are
// the instruction's --exclude patterns.
func (bc *BuildContext) Copied(src string, excludes []string) []string {
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
	var out []string
	wild := strings.ContainsAny(src, `*?[\`)
	segs := strings.Split(src, "/")
	for _, f := range bc.Files {
		root := ""
		switch {
		case src == "":
			root = ""
		case wild:
			fsegs := strings.Split(f, "/")
			if len(fsegs) < len(segs) || !globSegments(segs, fsegs[:len(segs)]) {
				continue
			}
			root = strings.Join(fsegs[:len(segs)], "/")
		case f == src:
			root = f
		case strings.HasPrefix(f, src+"/"):
			root = src
		default:
			continue
		}
		// --exclude patterns apply to paths under the source.
		rel := strings.TrimPrefix(strings.TrimPrefix(f, root), "/")
		if rel == "" {
			rel = path.Base(f)
		}
		if excluded(rel) {
			continue
		}
		out = append(out, f)
	}
	return out
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
			"exactly what would be baked in: the file, the line of the secret, and the COPY that copies it. The severity is that of the secret, at most medium when only a build stage the final image copies nothing from gets the file.",
		Remediation: "Keep the file out of the image: list it in .dockerignore, copy only what the build needs (COPY src/ ./src/ rather than COPY . .), " +
			"and pass the credential at build time with `RUN --mount=type=secret` or at run time. Rotate the secret if the image was ever pushed.",
		References: []string{"https://docs.docker.com/build/concepts/context/#dockerignore-files", "https://docs.docker.com/build/building/secrets/"},
	},
	Check: func(p *Pass) {
		dir := p.contextDir()
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			return
		}
		bc, err := LoadBuildContext(dir, p.File.Path)
		if err != nil {
			return // BuildKit would refuse this context too; nothing is copied
		}
		scanned := map[string]bool{}
		// The Dockerfile's own secrets are reported on their instructions
		// (DV1040-DV1046); `COPY . .` copying the file again adds nothing.
		if self, err := filepath.Rel(dir, p.File.Path); err == nil && !strings.HasPrefix(self, "..") {
			scanned[filepath.ToSlash(self)] = true
		}
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
					for _, f := range bc.Copied(src, excludes) {
						if scanned[f] {
							continue
						}
						scanned[f] = true
						p.reportContextFile(bc, f, in, shipped)
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

// reportContextFile scans one context file and reports each secret in it
// against the file and line, naming the instruction that copies it.
func (p *Pass) reportContextFile(bc *BuildContext, rel string, in *Instruction, shipped map[*Stage]bool) {
	fh, err := os.Open(filepath.Join(bc.Dir, filepath.FromSlash(rel)))
	if err != nil {
		return // the build would fail on it too
	}
	defer fh.Close()
	matches, err := secrets.Default().ScanReader(fh, rel)
	if err != nil && len(matches) == 0 {
		return
	}
	for _, m := range matches {
		file := filepath.Join(bc.Dir, filepath.FromSlash(rel))
		// The location names the file in full; the message names it as the
		// build context does, next to the instruction that copies it.
		msg := strings.TrimSuffix(m.Describe(rel), ".") + "; `" + instructionText(in) + "` on line " + strconv.Itoa(in.Line) + " copies it into the image."
		f := p.Emit(finding.Location{Path: file, Line: m.Line, Column: m.Column}, "%s", msg)
		f.Severity = m.Severity
		f.Fingerprint = m.Fingerprint()
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
