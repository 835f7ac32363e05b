package dockerfile

import (
	"encoding/json"
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/dockvet/dockvet/internal/finding"
)

// An image's configuration records, for every build step, the instruction
// that made it (`created_by`, what `docker history --no-trunc` prints).
// ParseHistory reads those records back into a Dockerfile, so that the
// Dockerfile rules judge an image whose Dockerfile is not at hand: a
// `RUN curl … | sh` in an image's history is the same finding as in a
// Dockerfile.
//
// The builders write created_by in these forms:
//
//	/bin/sh -c #(nop)  ENV A=b               classic builder, a step without a layer
//	/bin/sh -c #(nop) ADD file:0f3a… in /    classic builder, COPY or ADD (sources by content hash)
//	/bin/sh -c apt-get update                classic builder, RUN
//	|2 A=1 B=2 /bin/sh -c make               classic builder, RUN with build arguments in force
//	RUN /bin/sh -c apt-get update # buildkit BuildKit, RUN (and COPY, ADD) with a layer
//	RUN |1 TOKEN=x /bin/sh -c npm ci # buildkit
//	ENV A=b, USER app, ARG A=1, WORKDIR /app  BuildKit, steps without a layer
//	CMD ["/bin/sh" "-c" "node app.js"]       CMD and ENTRYPOINT as Go quotes them
//	EXPOSE [80/tcp], VOLUME [/data], SHELL [/bin/bash -c]
//
// What the record leaves out cannot be judged: the FROM line (the base's
// own steps are the history's first entries), the flags of RUN (--mount,
// --network, --security), COPY --from and ADD --checksum, and the build
// context. The values recorded are the ones the build used, with
// variables already expanded.

// HistoryStep is one created_by read as a Dockerfile instruction.
type HistoryStep struct {
	// Keyword is the instruction, upper case ("RUN", "ENV"); "" when
	// created_by is no Dockerfile instruction (a layer another tool made).
	Keyword string
	// Args are the instruction's arguments as recorded: for RUN the
	// script the shell ran (or the exec-form arguments joined), for
	// everything else the text after the keyword. When Keyword is "",
	// Args is the whole created_by.
	Args string
	// Shell is the shell a RUN ran its script with ("/bin/sh", "-c");
	// nil for an exec-form RUN.
	Shell []string
	// BuildArgs are the build arguments a RUN recorded as in force
	// (`|N KEY=VALUE …`).
	BuildArgs []HistoryArg
}

// HistoryArg is one KEY=VALUE of a history record.
type HistoryArg struct{ Key, Value string }

var defaultShell = []string{"/bin/sh", "-c"}

// historyKeywords are the instructions a builder records.
var historyKeywords = map[string]bool{
	"RUN": true, "ENV": true, "ARG": true, "LABEL": true, "USER": true, "WORKDIR": true, "EXPOSE": true, "VOLUME": true,
	"CMD": true, "ENTRYPOINT": true, "HEALTHCHECK": true, "SHELL": true, "STOPSIGNAL": true, "MAINTAINER": true,
	"ONBUILD": true, "COPY": true, "ADD": true,
}

// ParseHistoryStep reads one created_by, taking RUN scripts to have been
// run by /bin/sh -c unless the record names another shell.
func ParseHistoryStep(createdBy string) HistoryStep {
	return parseHistoryStep(createdBy, defaultShell)
}

var (
	buildArgCountRe = regexp.MustCompile(`^\|([0-9]+)(?:\s+|$)`)
	historyKeyRe    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*=`)
	labelKeyRe      = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_./:-]*=`)
)

// parseHistoryStep reads created_by; shell is the shell in force, which
// a RUN's record starts with.
func parseHistoryStep(createdBy string, shell []string) HistoryStep {
	s := strings.TrimSpace(createdBy)
	if rest, ok := strings.CutSuffix(s, "# buildkit"); ok {
		s = strings.TrimSpace(rest)
	}
	kw, rest := firstWord(s)
	if historyKeywords[kw] {
		if kw == "RUN" {
			return parseRunRecord(rest, shell)
		}
		return HistoryStep{Keyword: kw, Args: rest}
	}
	if buildArgCountRe.MatchString(s) {
		return parseRunRecord(s, shell) // the classic builder's RUN with build arguments
	}
	if sh, script, ok := cutShell(s, shell); ok {
		if meta, ok := strings.CutPrefix(script, "#(nop)"); ok {
			// The classic builder's record of a step that ran nothing.
			meta = strings.TrimSpace(meta)
			if kw, rest := firstWord(meta); historyKeywords[kw] && kw != "RUN" {
				return HistoryStep{Keyword: kw, Args: rest}
			}
			return HistoryStep{Args: s}
		}
		return HistoryStep{Keyword: "RUN", Args: script, Shell: sh}
	}
	return HistoryStep{Args: s}
}

func firstWord(s string) (string, string) {
	i := strings.IndexAny(s, " \t")
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.TrimSpace(s[i:])
}

// parseRunRecord reads what follows RUN: build arguments, then the shell
// and the script, or the exec-form arguments.
func parseRunRecord(s string, shell []string) HistoryStep {
	st := HistoryStep{Keyword: "RUN"}
	if m := buildArgCountRe.FindStringSubmatch(s); m != nil {
		n, _ := strconv.Atoi(m[1])
		st.BuildArgs, s = splitBuildArgs(s[len(m[0]):], n, shell)
	}
	if sh, script, ok := cutShell(s, shell); ok {
		st.Shell, st.Args = sh, script
		return st
	}
	st.Args = strings.TrimSpace(s)
	return st
}

// splitBuildArgs takes n KEY=VALUE pairs off the front of s. The builders
// join values with spaces, unquoted: a value runs to the next word that
// starts a KEY=, and the last one to where the shell starts.
func splitBuildArgs(s string, n int, shell []string) ([]HistoryArg, string) {
	var out []HistoryArg
	for i := 0; i < n && s != ""; i++ {
		if !historyKeyRe.MatchString(s) {
			break
		}
		k, rest, _ := strings.Cut(s, "=")
		end := len(rest)
		for j := 0; j < len(rest); j++ {
			if rest[j] != ' ' {
				continue
			}
			next := rest[j+1:]
			if i < n-1 && historyKeyRe.MatchString(next) {
				end = j
				break
			}
			if i == n-1 {
				if _, _, ok := cutShell(next, shell); ok {
					end = j
					break
				}
			}
		}
		if i == n-1 && end == len(rest) {
			// No shell follows: an exec-form RUN; the value is one word.
			if j := strings.IndexByte(rest, ' '); j >= 0 {
				end = j
			}
		}
		out = append(out, HistoryArg{Key: k, Value: rest[:end]})
		s = strings.TrimLeft(rest[end:], " ")
	}
	return out, s
}

var posixShells = map[string]bool{"sh": true, "bash": true, "dash": true, "ash": true, "zsh": true, "ksh": true, "mksh": true}

// cutShell splits a record into the shell that ran the script and the
// script: the shell in force (SHELL) when the record starts with it, else
// a POSIX shell with its options up to -c, or Windows' cmd /S /C and
// PowerShell -Command. ok is false for an exec-form command. It reads
// only the words it needs: a record is searched for where its shell
// starts (splitBuildArgs), so every call must cost the shell, not the
// record.
func cutShell(s string, shell []string) ([]string, string, bool) {
	if len(shell) > 0 {
		rest, ok := s, true
		for i, w := range shell {
			if rest, ok = strings.CutPrefix(rest, w); !ok {
				break
			}
			if i < len(shell)-1 {
				if rest, ok = strings.CutPrefix(rest, " "); !ok {
					break
				}
			}
		}
		if ok && (rest == "" || rest[0] == ' ') {
			if rest != "" {
				rest = rest[1:]
			}
			return slices.Clone(shell), rest, true
		}
	}
	// word takes one word off the front of s, up to one space.
	word := func(s string) (string, string) {
		if i := strings.IndexByte(s, ' '); i >= 0 {
			return s[:i], s[i+1:]
		}
		return s, ""
	}
	first, rest := word(s)
	switch base := strings.ToLower(path.Base(first)); {
	case posixShells[base]:
		sh := []string{first}
		for rest != "" {
			var w string
			w, rest = word(rest)
			if !strings.HasPrefix(w, "-") || w == "-" || w == "--" {
				return nil, "", false
			}
			sh = append(sh, w)
			if strings.Trim(w[1:], "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") == "" && strings.HasSuffix(w, "c") {
				return sh, rest, true
			}
			if strings.HasSuffix(w, "o") && rest != "" { // -o pipefail, -eo pipefail
				w, rest = word(rest)
				sh = append(sh, w)
			}
		}
	case base == "cmd" || base == "cmd.exe":
		s1, rest := word(rest)
		c, rest := word(rest)
		if strings.EqualFold(s1, "/S") && strings.EqualFold(c, "/C") {
			return []string{first, s1, c}, rest, true
		}
	case base == "powershell" || base == "powershell.exe" || base == "pwsh":
		sh := []string{first}
		for rest != "" {
			var w string
			w, rest = word(rest)
			if !strings.HasPrefix(w, "-") {
				return nil, "", false
			}
			sh = append(sh, w)
			if strings.EqualFold(w, "-Command") || strings.EqualFold(w, "-c") {
				return sh, rest, true
			}
		}
	}
	return nil, "", false
}

// History is a Dockerfile rebuilt from an image's history, and which
// history entry each of its lines came from.
type History struct {
	// File is the rebuilt Dockerfile: a FROM scratch on line 1 (the base
	// is not recorded) and then, for every entry that is a Dockerfile
	// instruction, that instruction. A RUN's record can give a few lines:
	// a SHELL when it ran with another shell than the one in force, an
	// ARG for every build argument whose value the file does not hold yet.
	File *File
	// Skipped lists the entries that are no Dockerfile instruction (a
	// layer another tool made, a record too damaged to read), by index.
	Skipped []int
	// entryOf[l-1] is the entry line l came from; -1 for the FROM.
	entryOf []int
}

// Entry returns the index of the history entry line came from, or -1 for
// a line no entry made.
func (h *History) Entry(line int) int {
	if line < 1 || line > len(h.entryOf) {
		return -1
	}
	return h.entryOf[line-1]
}

// historyPath names the rebuilt file in errors.
const historyPath = "history"

// maxHistorySource bounds the rebuilt file well below what Parse accepts;
// an entry that would pass it is skipped.
const maxHistorySource = 2 << 20

// ParseHistory rebuilds a Dockerfile from the created_by of an image's
// history entries, oldest first. Every entry is rendered as Dockerfile
// source and checked alone with BuildKit's parser; one that does not
// parse is skipped, so a damaged or hostile record never hides the
// others. The error is for a rebuilt file BuildKit rejects as a whole,
// which the per-entry check is there to prevent.
func ParseHistory(createdBy []string) (*History, error) {
	h := &History{entryOf: []int{-1}}
	var src strings.Builder
	src.WriteString("FROM scratch\n")
	st := historyState{shell: defaultShell, args: map[string]string{}}
	for i, cb := range createdBy {
		lines, next, ok := st.render(cb)
		text := strings.Join(lines, "\n") + "\n"
		if !ok || src.Len()+len(text) > maxHistorySource || !parsesAlone(text) {
			h.Skipped = append(h.Skipped, i)
			continue
		}
		st = next
		src.WriteString(text)
		for range strings.Count(text, "\n") {
			h.entryOf = append(h.entryOf, i)
		}
	}
	f, err := Parse(historyPath, []byte(src.String()))
	if err != nil {
		return nil, err
	}
	h.File = f
	return h, nil
}

func parsesAlone(text string) bool {
	_, err := Parse(historyPath, []byte("FROM scratch\n"+text))
	return err == nil
}

// historyState is what the rebuilt file has set so far: the shell RUN
// uses, and the build arguments' values.
type historyState struct {
	shell []string
	args  map[string]string
}

// render writes one entry as Dockerfile lines, and the state after it.
func (st historyState) render(createdBy string) ([]string, historyState, bool) {
	if strings.ContainsAny(createdBy, "\x00\r") {
		return nil, st, false
	}
	step := parseHistoryStep(createdBy, st.shell)
	next := historyState{shell: st.shell, args: st.args}
	var lines []string
	switch step.Keyword {
	case "":
		return nil, st, false
	case "RUN":
		next.args = maps.Clone(st.args)
		for _, a := range step.BuildArgs {
			if v, ok := next.args[a.Key]; ok && v == a.Value {
				continue
			}
			next.args[a.Key] = a.Value
			lines = append(lines, "ARG "+a.Key+"="+quoteValue(a.Value))
		}
		if step.Shell == nil {
			words := strings.Fields(step.Args)
			if len(words) == 0 {
				return nil, st, false
			}
			return append(lines, "RUN "+jsonArray(words)), next, true
		}
		if !slices.Equal(step.Shell, st.shell) {
			next.shell = step.Shell
			lines = append(lines, "SHELL "+jsonArray(step.Shell))
		}
		script := step.Args
		if strings.TrimSpace(script) == "" {
			return nil, st, false
		}
		return append(lines, runLines(script)...), next, true
	case "ENV", "LABEL":
		pairs := splitPairs(step.Args, step.Keyword == "LABEL")
		if len(pairs) == 0 {
			return nil, st, false
		}
		var b strings.Builder
		b.WriteString(step.Keyword)
		for _, kv := range pairs {
			b.WriteString(" " + quoteKey(kv.Key) + "=" + quoteValue(kv.Value))
		}
		return []string{b.String()}, next, true
	case "ARG":
		next.args = maps.Clone(st.args)
		var b strings.Builder
		b.WriteString("ARG")
		for _, w := range strings.Fields(step.Args) {
			k, v, hasValue := strings.Cut(w, "=")
			if hasValue {
				next.args[k] = v
				b.WriteString(" " + k + "=" + quoteValue(v))
			} else {
				// Declared without a value: a RUN then records KEY= .
				next.args[k] = ""
				b.WriteString(" " + k)
			}
		}
		return []string{b.String()}, next, true
	case "CMD", "ENTRYPOINT":
		words, ok := goQuoted(step.Args)
		if !ok {
			if !singleLine(step.Args) {
				return nil, st, false
			}
			return []string{step.Keyword + " " + step.Args}, next, true
		}
		// The builder put a shell-form command behind the shell in force:
		// write it back in shell form.
		if n := len(st.shell); len(words) == n+1 && slices.Equal(words[:n], st.shell) && singleLine(words[n]) {
			return []string{step.Keyword + " " + strings.TrimSpace(words[n])}, next, true
		}
		return []string{step.Keyword + " " + jsonArray(words)}, next, true
	case "SHELL":
		words := bracketWords(step.Args)
		if len(words) == 0 {
			return nil, st, false
		}
		next.shell = words
		return []string{"SHELL " + jsonArray(words)}, next, true
	case "VOLUME":
		words := bracketWords(step.Args)
		if len(words) == 0 {
			return nil, st, false
		}
		return []string{"VOLUME " + jsonArray(words)}, next, true
	case "EXPOSE":
		var ports []string
		for _, w := range bracketWords(strings.TrimPrefix(step.Args, "map")) {
			ports = append(ports, strings.TrimSuffix(w, ":{}"))
		}
		if len(ports) == 0 {
			return nil, st, false
		}
		return []string{"EXPOSE " + strings.Join(ports, " ")}, next, true
	case "HEALTHCHECK":
		test, ok := healthTest(step.Args)
		if !ok {
			return nil, st, false
		}
		return []string{"HEALTHCHECK " + test}, next, true
	case "COPY", "ADD":
		return []string{copyLine(step.Keyword, step.Args)}, next, true
	}
	if !singleLine(step.Args) {
		return nil, st, false // one record is one instruction
	}
	return []string{step.Keyword + " " + step.Args}, next, true
}

// singleLine reports whether s can be an instruction's arguments on one
// line, read back as written.
func singleLine(s string) bool {
	t := strings.TrimSpace(s)
	return t != "" && !strings.ContainsAny(s, "\n") && !strings.HasSuffix(t, `\`) && !strings.Contains(s, "<<") && !strings.HasPrefix(t, "[")
}

// runLines writes a RUN of a shell script: on one line when the script
// can stand there unchanged, else as a here-document, which keeps every
// byte.
func runLines(script string) []string {
	if t := strings.TrimSpace(script); singleLine(script) && !strings.HasPrefix(t, "-") {
		return []string{"RUN " + t}
	}
	delim := "DOCKVET_EOF"
	body := strings.Split(strings.TrimSuffix(script, "\n"), "\n")
	for n := 1; slices.Contains(body, delim); n++ {
		delim = fmt.Sprintf("DOCKVET_EOF_%d", n)
	}
	return append(append([]string{"RUN <<'" + delim + "'"}, body...), delim)
}

// splitPairs reads the KEY=VALUE pairs of an ENV or LABEL record. Values
// were written unquoted: a value runs to the next word that starts a
// KEY=. A first word without = is the legacy `ENV KEY value` form.
func splitPairs(s string, label bool) []HistoryArg {
	keyRe := historyKeyRe
	if label {
		keyRe = labelKeyRe
	}
	words := strings.Split(s, " ")
	if len(words) > 0 && !keyRe.MatchString(words[0]) {
		if k, v := firstWordKV(s); k != "" {
			return []HistoryArg{{Key: k, Value: v}}
		}
		return nil
	}
	var out []HistoryArg
	for _, w := range words {
		if keyRe.MatchString(w) {
			k, v, _ := strings.Cut(w, "=")
			out = append(out, HistoryArg{Key: k, Value: v})
		} else if len(out) > 0 {
			out[len(out)-1].Value += " " + w
		}
	}
	return out
}

func firstWordKV(s string) (string, string) {
	k, v := firstWord(s)
	if !historyKeyRe.MatchString(k + "=") {
		return "", ""
	}
	return k, v
}

// quoteValue writes a value so that BuildKit reads it as one word; the
// model keeps the quotes, as it does for a Dockerfile's own.
func quoteValue(v string) string {
	if v != "" && !strings.ContainsAny(v, " \t\n\"'\\") {
		return v
	}
	return `"` + valueEscapes.Replace(v) + `"`
}

var valueEscapes = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\t", `\t`)

func quoteKey(k string) string {
	if !strings.ContainsAny(k, " \t\"'\\=") {
		return k
	}
	return quoteValue(k)
}

func jsonArray(words []string) string {
	b, _ := json.Marshal(words)
	return string(b)
}

// goQuoted reads a list as Go's %q prints it (`["a" "b c"]`), or as JSON.
func goQuoted(s string) ([]string, bool) {
	s = strings.TrimSpace(s)
	var words []string
	if json.Unmarshal([]byte(s), &words) == nil {
		return words, true
	}
	inner, ok := strings.CutPrefix(s, "[")
	if !ok {
		return nil, false
	}
	inner, ok = strings.CutSuffix(inner, "]")
	if !ok {
		return nil, false
	}
	words = []string{}
	for inner = strings.TrimSpace(inner); inner != ""; inner = strings.TrimSpace(inner) {
		q, err := strconv.QuotedPrefix(inner)
		if err != nil {
			return nil, false
		}
		w, _ := strconv.Unquote(q)
		words = append(words, w)
		inner = inner[len(q):]
	}
	return words, true
}

// bracketWords reads a list as Go's %v prints it (`[/data /cache]`), the
// bracket optional; a JSON or Go-quoted list is read as such.
func bracketWords(s string) []string {
	if words, ok := goQuoted(s); ok {
		return words
	}
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	return strings.Fields(s)
}

// healthTest writes HEALTHCHECK's arguments from the recorded
// configuration: BuildKit's `{Test:[CMD-SHELL curl -f …] Interval:…}` or
// the classic builder's `&{["CMD-SHELL" "curl -f …"] "30s" …}`.
func healthTest(s string) (string, bool) {
	var test []string
	switch {
	case strings.Contains(s, "Test:["):
		_, rest, _ := strings.Cut(s, "Test:[")
		body, _, ok := strings.Cut(rest, "] Interval:")
		if !ok {
			body, _, ok = strings.Cut(rest, "]")
			if !ok {
				return "", false
			}
		}
		kind, cmd := firstWord(body)
		test = []string{kind, cmd}
	case strings.HasPrefix(s, "&{["):
		end := strings.Index(s, "]")
		if end < 0 {
			return "", false
		}
		words, ok := goQuoted(s[2 : end+1])
		if !ok || len(words) == 0 {
			return "", false
		}
		test = words
	default:
		// Already an instruction's arguments (NONE, CMD …).
		return s, singleLine(s)
	}
	switch kind := strings.ToUpper(test[0]); {
	case kind == "NONE":
		return "NONE", true
	case kind == "CMD-SHELL" && len(test) > 1 && singleLine(strings.Join(test[1:], " ")):
		return "CMD " + strings.TrimSpace(strings.Join(test[1:], " ")), true
	case kind == "CMD" && len(test) > 1:
		if len(test) == 2 {
			return "CMD " + jsonArray(strings.Fields(test[1])), true // BuildKit's record joins the words
		}
		return "CMD " + jsonArray(test[1:]), true
	}
	return "", false
}

// copyFlags are the COPY and ADD options BuildKit's parser knows; the
// records hold --chown, --chmod and --parents, other builders more.
var copyFlags = map[string]bool{"--chown": true, "--chmod": true, "--parents": true, "--link": true, "--checksum": true,
	"--keep-git-dir": true, "--exclude": true, "--unpack": true}

// copyLine writes a COPY or ADD record in JSON form: the classic
// builder's `file:<hash> in /dest` loses its "in", a here-document source
// (`<<EOF`, its content not recorded) keeps its name.
func copyLine(kw, args string) string {
	var flags, paths []string
	for _, w := range strings.Fields(args) {
		name, _, _ := strings.Cut(w, "=")
		switch {
		case strings.HasPrefix(w, "--") && len(paths) == 0:
			if copyFlags[name] && strings.Contains(w, "=") {
				flags = append(flags, w)
			}
		default:
			paths = append(paths, strings.TrimLeft(w, "<"))
		}
	}
	if n := len(paths); n >= 3 && paths[n-2] == "in" {
		paths = append(paths[:n-2], paths[n-1])
	}
	if len(paths) == 1 {
		paths = append(paths, "/")
	}
	line := kw
	for _, f := range flags {
		line += " " + f
	}
	return line + " " + jsonArray(paths)
}

// historySurfaces are the surfaces of the Dockerfile rules that judge what
// an image's history records hold: they run on a Dockerfile and on the
// Dockerfile an image's history is read back into (ParseHistory), and the
// catalog lists both surfaces for them.
//
// Left out, because the record does not hold what they judge: the FROM
// line and the stages (DV1001, DV1010–DV1016, DV1057, DV1099–DV1101,
// DV1119), COPY --from (DV1058), the flags of RUN (DV1025 --network,
// DV1083 --security) and with them cache mounts (the cache rules DV1051–
// DV1056 and DV1059; DV2024 finds the caches in the layers themselves),
// variables before expansion (DV1096 relative WORKDIR, DV1114), the build
// context (DV1044, DV1047), the sources of the classic builder's ADD,
// which it records as content hashes (DV1113), and a build argument's
// declaration apart from its value (DV1042; DV1041 judges the value the
// record holds). A built image cannot carry what BuildKit refuses (DV1023
// invalid port, DV1102 several sources to a file) nor a RUN its shell
// refused (DV1121).
//
// Left out, because the configuration is what counts and an image rule
// judges it: the user (DV1002; DV2001), exposed ports (DV1020–DV1022,
// DV1026; DV2006–DV2009) and the health check (DV1091; DV2010). Left out
// as noise in a history, where the base image's steps precede the
// image's own: several CMD, ENTRYPOINT or HEALTHCHECK (DV1092–DV1094), and
// curl next to wget (DV1118).
var historySurfaces = []finding.Surface{finding.SurfaceDockerfile, finding.SurfaceImage}

// OnHistory reports whether r runs on an image's history.
func OnHistory(r *finding.Rule) bool { return slices.Contains(r.Surfaces, finding.SurfaceImage) }
