package secrets

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/dockvet/dockvet/internal/finding"
)

// DefaultMaxBytes is the default cap on the bytes read from one input.
// Files bigger than this in images are archives, databases and media far
// more often than configuration; the cap is configurable, and a truncated
// input is reported as such (Result.Truncated), never passed off as read.
const DefaultMaxBytes = 64 << 20

// Options configure an Engine.
type Options struct {
	// MaxBytes caps the bytes read from one input: 0 means
	// DefaultMaxBytes, a negative value means no cap.
	MaxBytes int64
	// SkipPaths are path prefixes (slash-separated, without a leading
	// slash: "usr/share/doc/") whose files are not read. Nil means
	// DefaultSkipPaths; an empty, non-nil slice skips nothing.
	SkipPaths []string
	// Executables also scans the printable strings of ELF, PE and Mach-O
	// files (a token compiled into a Go binary), at a cost in speed.
	Executables bool
	// Info also reports informational matches, such as certificates,
	// which are public by design.
	Info bool
	// Rules to run; nil means every built-in format (Rules).
	Rules []*Rule
	// MaxMatches caps the matches kept from one input: 0 means
	// DefaultMaxMatches, a negative value means no cap. Past it the rest
	// of the input is not searched and Result.Capped is set.
	MaxMatches int
}

// DefaultMaxMatches is the default cap on the matches kept from one input.
// A file with a thousand secrets is a dump, a fixture or an attack (a file
// of 300,000 distinct keys made a 292 MB report); the first thousand say
// all a reader can act on, and Result.Capped says the rest was not
// searched, so the report can say so.
const DefaultMaxMatches = 1000

// The budgets below keep the engine's work per input byte bounded
// whatever the density of keywords (issue 19: a megabyte of repeated
// "-----BEGIN RSA PRIVATE KEY-----" ran each of 32,000 occurrences' 16 KiB
// window through the expression, 86 s of CPU). Rules still run one
// keyword at a time, as in any ordinary file; only a rule whose windows
// pile up past denseFactor bytes per input byte searches a whole region
// at once, once.
const (
	// denseFactor is how many bytes, per byte of input up to a window's
	// end, a rule may hand its expression one keyword at a time (plus
	// denseSlack). Ordinary text stays far below it (keywords are
	// sparse, prechecks reject most and windows end at the line); four
	// windows overlapping everywhere is already a file built for it.
	denseFactor = 1
	// denseSlack lets a small input run every keyword on its own window,
	// however dense: 64 KiB of work is nothing, and the results of small
	// inputs never depend on the budget.
	denseSlack = 16 << 10
	// regionWindows is how many of a rule's windows one region search
	// spans past its keyword: the next region starts at most one window
	// before this one ends, so each byte is searched at most
	// regionWindows/(regionWindows-1) times, plus the window before a
	// Near keyword.
	regionWindows = 4
	// precheckReach caps the text a Precheck reads after its keyword: a
	// name and its operator, or a URL's user information, are far
	// shorter, and a cap keeps a precheck's cost a constant per keyword.
	precheckReach = 256
	// precheckCost is what one precheck counts against a rule's budget:
	// about what a typical one reads. Its worst case is precheckReach,
	// so prechecks cost at most precheckReach/precheckCost times the
	// budget.
	precheckCost = 16
	// closingTail is how far past the start of its Closing literal a
	// match may end: a PEM END line is "-----END ", a label of at most 40
	// bytes and "PRIVATE KEY-----".
	closingTail = 80
)

// Engine scans inputs for secrets. It is safe for concurrent use; build it
// once and call it for every file.
//
// Each input is read once, in chunks. A keyword index finds, in one pass
// over the bytes, every place where some rule's keyword occurs; only the
// rules of that keyword run, their regular expression anchored at the
// keyword (or, for Near rules, searched for in a bounded window around
// it: its line, or a few kilobytes for multi-line formats). Content that cannot hold a readable secret
// is skipped by documented rules (SkipReason, binary sniffing) and the
// result says so.
type Engine struct {
	opts      Options
	maxBytes  int64
	rules     []*Rule
	info      []*ruleInfo
	index     *keywordIndex
	kwRules   [][]int32
	maxBefore int
	maxAfter  int
	maxKw     int
	// ruleKw lists each rule's keywords (indexes into index.words).
	ruleKw     [][]int32
	closing    [][]byte
	maxMatches int
	chunk      int
	// bufs holds the chunk buffers of finished scans. A sync.Pool would
	// drop them at every collection, and an image walk would allocate a
	// fresh megabyte after each; a few kept for good cost less.
	bufs   chan *[]byte
	states sync.Pool
	stats  counters
}

type ruleInfo struct {
	once sync.Once
	err  error
	// re is the rule's expression (Rule.Regex compiled).
	re           *regexp.Regexp
	secretGroups []int
	nameGroups   []int
	hostGroups   []int
	boundary     *[256]bool
	// anchored is the expression tied to the start of its input, for
	// rules that match at their keyword.
	anchored *regexp.Regexp
	// nameFirst is set when the expression starts with its name
	// submatch: the name is then known, and judged, before it runs.
	nameFirst bool
}

type counters struct {
	files, bytes, skippedPath, skippedBinary, truncated, strings, capped atomic.Int64
	// work counts the bytes handed to rules' expressions, prechecks the
	// prechecks run (each reads at most precheckReach bytes), regions
	// the region searches: what TestKeywordDensity bounds.
	work, prechecks, regions atomic.Int64
}

// Stats counts what an Engine has read and what it has skipped, so that a
// caller can say so in its report.
type Stats struct {
	// Files and Bytes are the inputs read (binary ones included) and
	// their bytes.
	Files, Bytes int64
	// SkippedPath and SkippedBinary count inputs not read because of their
	// path (SkipReason) or because they were binary.
	SkippedPath, SkippedBinary int64
	// Truncated counts inputs longer than the byte cap.
	Truncated int64
	// Strings counts binary inputs scanned as their printable strings.
	Strings int64
	// Capped counts inputs with more matches than the cap
	// (Options.MaxMatches), searched only up to it.
	Capped int64
}

// Stats returns the engine's counters so far.
func (e *Engine) Stats() Stats {
	return Stats{
		Files: e.stats.files.Load(), Bytes: e.stats.bytes.Load(),
		SkippedPath: e.stats.skippedPath.Load(), SkippedBinary: e.stats.skippedBinary.Load(),
		Truncated: e.stats.truncated.Load(), Strings: e.stats.strings.Load(),
		Capped: e.stats.capped.Load(),
	}
}

// MaxBytes is the cap on the bytes read from one input, 0 when there is
// none. A walker that feeds the engine can stop one byte past it: that
// byte tells a file of exactly the cap from a longer one (Result.Truncated).
func (e *Engine) MaxBytes() int64 { return max(e.maxBytes, 0) }

// defaultChunk is how much an input is read at a time.
const defaultChunk = 1 << 20

// New builds an engine. It fails on a rule that cannot run: a missing
// regular expression or keyword, a keyword shorter than three bytes, a
// duplicate ID.
func New(opts Options) (*Engine, error) {
	rules := opts.Rules
	if rules == nil {
		rules = Rules()
	}
	e := &Engine{opts: opts, rules: rules, maxBytes: opts.MaxBytes, chunk: defaultChunk}
	if e.maxBytes == 0 {
		e.maxBytes = DefaultMaxBytes
	}
	if e.opts.SkipPaths == nil {
		e.opts.SkipPaths = DefaultSkipPaths
	}
	switch {
	case opts.MaxMatches == 0:
		e.maxMatches = DefaultMaxMatches
	case opts.MaxMatches > 0:
		e.maxMatches = opts.MaxMatches
	}
	var words []string
	wordIndex := map[string]int{}
	seen := map[string]bool{}
	for ri, r := range rules {
		switch {
		case r.ID == "" || seen[r.ID]:
			return nil, fmt.Errorf("secret rule %q: missing or duplicate ID", r.ID)
		case r.Regex == nil:
			return nil, fmt.Errorf("secret rule %s has no regular expression", r.ID)
		case len(r.Keywords) == 0:
			return nil, fmt.Errorf("secret rule %s has no keyword", r.ID)
		case !r.Severity.Valid():
			return nil, fmt.Errorf("secret rule %s has no valid severity", r.ID)
		}
		seen[r.ID] = true
		e.info = append(e.info, &ruleInfo{})
		if opts.Rules != nil {
			// A rule set of the caller's is proven whole now; the
			// built-in one by TestRules, and prepared rule by rule as
			// scans first meet a rule's keyword.
			if err := e.prepare(ri); err != nil {
				return nil, err
			}
		}
		e.ruleKw = append(e.ruleKw, nil)
		e.closing = append(e.closing, []byte(r.Closing))
		for _, k := range r.Keywords {
			wi, ok := wordIndex[k]
			if !ok {
				wi = len(words)
				wordIndex[k] = wi
				words = append(words, k)
				e.kwRules = append(e.kwRules, nil)
			}
			e.kwRules[wi] = append(e.kwRules[wi], int32(ri))
			e.ruleKw[ri] = append(e.ruleKw[ri], int32(wi))
			e.maxKw = max(e.maxKw, len(k))
		}
		e.maxBefore = max(e.maxBefore, r.before())
		e.maxAfter = max(e.maxAfter, r.after())
	}
	idx, err := newKeywordIndex(words)
	if err != nil {
		return nil, err
	}
	e.index = idx
	e.bufs = make(chan *[]byte, min(max(runtime.GOMAXPROCS(0), 1), 8))
	return e, nil
}

// prepare compiles rule ri's expressions and learns its submatches, once.
func (e *Engine) prepare(ri int) error {
	inf := e.info[ri]
	inf.once.Do(func() { inf.err = inf.build(e.rules[ri]) })
	return inf.err
}

// infoOf is rule ri prepared. A built-in rule that does not build is a
// bug TestRules catches, not an input error.
func (e *Engine) infoOf(ri int) *ruleInfo {
	if err := e.prepare(ri); err != nil {
		panic(err)
	}
	return e.info[ri]
}

func (inf *ruleInfo) build(r *Rule) error {
	rx, err := regexp.Compile(r.Regex.String())
	if err != nil {
		return fmt.Errorf("secret rule %s: %v", r.ID, err)
	}
	inf.re = rx
	for i, n := range rx.SubexpNames() {
		switch n {
		case "secret":
			inf.secretGroups = append(inf.secretGroups, i)
		case "name":
			inf.nameGroups = append(inf.nameGroups, i)
		case "host":
			inf.hostGroups = append(inf.hostGroups, i)
		}
	}
	if len(inf.secretGroups) == 0 && r.Group > rx.NumSubexp() {
		return fmt.Errorf("secret rule %s: group %d does not exist", r.ID, r.Group)
	}
	if !r.Near {
		a, err := regexp.Compile(`^(?:` + r.Regex.String() + `)`)
		if err != nil {
			return fmt.Errorf("secret rule %s: %v", r.ID, err)
		}
		inf.anchored = a
		head := r.Regex.String()
		inf.nameFirst = r.ValidName != nil && strings.Contains(head[:min(len(head), 24)], "(?P<name>")
	}
	if r.Boundary != "" {
		inf.boundary = new([256]bool)
		for i := 0; i < len(r.Boundary); i++ {
			inf.boundary[r.Boundary[i]] = true
		}
	}
	if r.Paths != nil {
		if _, err := regexp.Compile(r.Paths.String()); err != nil {
			return fmt.Errorf("secret rule %s: paths: %v", r.ID, err)
		}
	}
	return nil
}

// buffer takes a chunk buffer, kept or new.
func (e *Engine) buffer() *[]byte {
	size := e.chunk + e.maxBefore + e.reserve() + 1
	select {
	case b := <-e.bufs:
		if cap(*b) >= size {
			return b
		}
	default:
	}
	b := make([]byte, 0, size)
	return &b
}

// reserve is how far past the last keyword scanned a chunk must reach: a
// region search spans regionWindows of the longest window, and the byte
// after (nothing may touch a secret's end).
func (e *Engine) reserve() int { return regionWindows*e.maxAfter + e.maxKw + 1 }

// release keeps a buffer for the next scan, if there is room.
func (e *Engine) release(b *[]byte) {
	select {
	case e.bufs <- b:
	default:
	}
}

var defaultEngine = sync.OnceValue(func() *Engine {
	e, err := New(Options{})
	if err != nil {
		// The built-in rules are constants; TestRulesCompile proves they
		// build.
		panic(err)
	}
	return e
})

// Default is the engine with the built-in rules and default options.
func Default() *Engine { return defaultEngine() }

// Result is what scanning one input found, and how much of it was read.
type Result struct {
	Matches []Match
	// Bytes is how many bytes of the input were read.
	Bytes int64
	// Skipped says why the content was not scanned; "" when it was.
	Skipped string
	// Truncated is set when the input was longer than the byte cap: only
	// the first MaxBytes were scanned.
	Truncated bool
	// Capped is set when the input held more matches than the cap
	// (Options.MaxMatches): Matches are the first ones, and the rest of
	// the input was not searched.
	Capped bool
	// Mode says how the content was read: "text", "utf-16" (decoded;
	// offsets are in the decoded text) or "strings" (the printable strings
	// of a binary file; Line and Column are 0).
	Mode string
}

// ScanBytes scans one input held in memory; path (slash-separated, may be
// empty) selects path-specific rules and the severity of test fixtures,
// and a path the engine skips yields nothing.
func (e *Engine) ScanBytes(data []byte, path string) []Match {
	res := e.scanBytes(data, path)
	return res.Matches
}

// ScanReader scans one input read from r, for example a file of an image
// layer as the walker reaches it: call it once per file. Skipped and
// truncated inputs are counted in Stats; use ScanFile to learn about each.
func (e *Engine) ScanReader(r io.Reader, path string) ([]Match, error) {
	res, err := e.ScanFile(r, path)
	return res.Matches, err
}

// ScanFile scans one input read from r and says how it was read. Memory
// stays bounded whatever the input's size: it is read in chunks, and a
// chunk keeps only as much of the previous one as a rule's window needs.
// An error is a read error of r; what was scanned before it is returned.
func (e *Engine) ScanFile(r io.Reader, path string) (Result, error) {
	if why := e.SkipReason(path); why != "" {
		e.stats.skippedPath.Add(1)
		return Result{Skipped: why}, nil
	}
	bp := e.buffer()
	defer e.release(bp)
	buf := (*bp)[:0]
	lr := r
	if e.maxBytes > 0 {
		// One byte over the cap tells a file of exactly the cap from a
		// longer one.
		lr = io.LimitReader(r, e.maxBytes+1)
	}
	res := Result{Mode: "text"}
	var total int64
	eof := false
	// capAtEOF drops the byte read past the cap.
	capAtEOF := func(b []byte) []byte {
		if eof && e.maxBytes > 0 && total > e.maxBytes {
			b = b[:len(b)-int(total-e.maxBytes)]
			total = e.maxBytes
			res.Truncated = true
			e.stats.truncated.Add(1)
		}
		return b
	}
	fill := func() error {
		for len(buf) < cap(buf) && !eof {
			n, err := lr.Read(buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+n]
			total += int64(n)
			if errors.Is(err, io.EOF) {
				eof = true
			} else if err != nil {
				return err
			}
		}
		buf = capAtEOF(buf)
		return nil
	}
	account := func() {
		res.Bytes = total
		e.stats.files.Add(1)
		e.stats.bytes.Add(total)
	}
	if err := fill(); err != nil {
		account()
		return res, err
	}
	switch mode := sniff(buf[:min(len(buf), sniffLen)], path, e.opts.Executables); mode {
	case modeBinary:
		account()
		e.stats.skippedBinary.Add(1)
		return Result{Skipped: "binary content", Bytes: total, Mode: "binary"}, nil
	case modeUTF16LE, modeUTF16BE:
		// Wide text is rare and small (Windows configuration files): read
		// it whole, decode it, scan it.
		all := bytes.Clone(buf)
		if !eof {
			rest, err := io.ReadAll(lr)
			total += int64(len(rest))
			eof = true
			all = capAtEOF(append(all, rest...))
			if err != nil {
				account()
				return res, err
			}
		}
		account()
		res.Mode = "utf-16"
		text := decodeUTF16(all, mode == modeUTF16BE)
		st := e.newState(path, true)
		st.scan(text, 0, len(text))
		st.finish(&res)
		return res, nil
	case modeStrings:
		res.Mode = "strings"
		e.stats.strings.Add(1)
	}
	st := e.newState(path, res.Mode == "text")
	base, done, converted := 0, 0, 0
	for {
		if res.Mode == "strings" {
			printableOnly(buf[converted-base:])
			converted = base + len(buf)
		}
		limit := base + len(buf)
		if !eof {
			// Leave room for the longest keyword and the region after
			// it (reserve); later occurrences are handled with the next
			// chunk. The budgets count from the input's start, so what
			// is found does not depend on where a chunk ended.
			limit -= e.reserve()
		}
		if limit > done {
			st.scan(buf, done-base, limit-base)
			done = limit
		}
		if eof {
			break
		}
		// One byte more than a window reaches back, for the check that
		// nothing touches a secret's first byte.
		keep := max(done-e.maxBefore-1, base)
		st.advance(buf[:keep-base])
		n := copy(buf, buf[keep-base:])
		buf = buf[:n]
		base = keep
		if err := fill(); err != nil {
			account()
			st.finish(&res)
			return res, err
		}
	}
	account()
	st.finish(&res)
	return res, nil
}

func (e *Engine) scanBytes(data []byte, path string) Result {
	if why := e.SkipReason(path); why != "" {
		e.stats.skippedPath.Add(1)
		return Result{Skipped: why}
	}
	res := Result{Mode: "text", Bytes: int64(len(data))}
	if e.maxBytes > 0 && int64(len(data)) > e.maxBytes {
		data = data[:e.maxBytes]
		res.Truncated = true
		res.Bytes = e.maxBytes
		e.stats.truncated.Add(1)
	}
	e.stats.files.Add(1)
	e.stats.bytes.Add(res.Bytes)
	switch mode := sniff(data[:min(len(data), sniffLen)], path, e.opts.Executables); mode {
	case modeBinary:
		e.stats.skippedBinary.Add(1)
		return Result{Skipped: "binary content", Bytes: res.Bytes, Mode: "binary"}
	case modeUTF16LE, modeUTF16BE:
		res.Mode = "utf-16"
		data = decodeUTF16(data, mode == modeUTF16BE)
	case modeStrings:
		res.Mode = "strings"
		e.stats.strings.Add(1)
		data = bytes.Clone(data)
		printableOnly(data)
	}
	st := e.newState(path, res.Mode != "strings")
	st.scan(data, 0, len(data))
	st.finish(&res)
	return res
}

// state is one input being scanned.
type state struct {
	e    *Engine
	path string
	// ruleOK says whether a rule's Paths admit the input: 0 not yet
	// asked, 1 yes, 2 no. It is decided when a keyword of the rule first
	// occurs, and severity when a secret is first found: most files of an
	// image have neither, and a regular expression per rule per file
	// would cost more than scanning them.
	ruleOK   []uint8
	lines    bool
	severity func(finding.Severity) (finding.Severity, string)
	// base is the input offset of the buffer being scanned.
	base int
	// lineBase counts the newlines before base; lastNL is the input
	// offset of the last newline before base (-1: none).
	lineBase, lastNL int
	matches          []Match
	seen             map[[3]int]bool
	// nl indexes the newlines of the current buffer, built on the first
	// match that needs a line number.
	nl    []int
	nlFor []byte
	// spent is, per rule, the bytes its windows and prechecks have cost
	// so far; covered[ri] is the input range [from, to) a region search
	// of the rule has covered: its keywords there need no window of
	// their own.
	spent   []int64
	covered []stretch
	// work, prechecks and regions feed Engine.stats.
	work, prechecks, regions int64
	// nl1 remembers the last search for a line end, and closed, per
	// rule, for the rule's Closing literal.
	nl1    ahead
	closed []ahead
	// capped is set once the match cap is reached.
	capped bool
}

// stretch is a range of input offsets.
type stretch struct{ from, to int }

type window struct{ start, end int }

// newState takes a scan state from the pool: a file of an image layer is
// typically small, and a fresh state per file (a slice per rule, a map) is
// garbage the collector would stop the scan to sweep.
func (e *Engine) newState(path string, lines bool) *state {
	st, _ := e.states.Get().(*state)
	if st == nil {
		st = &state{e: e, ruleOK: make([]uint8, len(e.rules)), seen: map[[3]int]bool{},
			spent: make([]int64, len(e.rules)), covered: make([]stretch, len(e.rules)),
			closed: make([]ahead, len(e.rules))}
	}
	st.path, st.lines, st.lastNL, st.lineBase, st.base = path, lines, -1, 0, 0
	st.matches, st.nlFor, st.severity = nil, nil, nil
	st.work, st.prechecks, st.regions, st.capped = 0, 0, 0, false
	st.nl1 = ahead{at: -1}
	for i := range st.closed {
		st.closed[i] = ahead{at: -1}
	}
	clear(st.seen)
	clear(st.ruleOK)
	clear(st.spent)
	clear(st.covered)
	return st
}

// admits reports whether rule ri may match in this input (its Paths).
func (st *state) admits(ri int32) bool {
	switch st.ruleOK[ri] {
	case 1:
		return true
	case 2:
		return false
	}
	r := st.e.rules[ri]
	ok := r.Paths == nil || r.Paths.MatchString(st.path)
	st.ruleOK[ri] = 2
	if ok {
		st.ruleOK[ri] = 1
	}
	return ok
}

// advance moves past consumed bytes, keeping line numbers right.
func (st *state) advance(consumed []byte) {
	if n := bytes.Count(consumed, []byte{'\n'}); n > 0 {
		st.lineBase += n
		st.lastNL = st.base + bytes.LastIndexByte(consumed, '\n')
	}
	st.base += len(consumed)
	st.nlFor = nil
}

// scan looks at keyword occurrences starting in buf[from:limit].
//
// Each occurrence normally gets its own window, never merged with a
// neighbour's, so what is found cannot depend on the neighbours or on where
// a chunk of the input ended. But windows of one rule can pile up: a file
// that is nothing but one keyword repeated gives every few bytes a window
// of up to 16 KiB. So each rule has a budget (denseFactor bytes of windows
// and prechecks per byte of input, plus denseSlack); a keyword that would
// overrun it opens a region instead, searched once (region), and the
// rule's keywords inside it are skipped. The budget counts from the
// input's start, so the choice, and what is found, is the same whatever
// the chunks.
func (st *state) scan(buf []byte, from, limit int) {
	e := st.e
	e.index.find(buf, from, limit, func(kw, start int) {
		if st.capped {
			return
		}
		end := start + len(e.index.words[kw])
		at := st.base + start
		for _, ri := range e.kwRules[kw] {
			if c := st.covered[ri]; at >= c.from && at < c.to {
				continue
			}
			if !st.admits(ri) {
				continue
			}
			r := e.rules[ri]
			we := min(end+r.after(), len(buf))
			if !r.MultiLine {
				if i := st.newline(buf, start, we); i >= 0 {
					we = i
				}
			}
			if we = st.closing(buf, int(ri), end, we); we < 0 {
				continue
			}
			ws := start
			if r.Near {
				ws = max(start-r.before(), 0)
			}
			cost := int64(we - ws)
			if r.Precheck != nil {
				cost += precheckCost
			}
			if st.spent[ri]+cost > denseFactor*int64(st.base+we)+denseSlack {
				st.region(buf, int(ri), start, ws)
				continue
			}
			if r.Precheck != nil {
				st.spent[ri] += precheckCost
				st.prechecks++
				if !r.Precheck(buf[end:min(we, end+precheckReach)]) {
					continue
				}
			}
			if !r.Near {
				// The expression starts at the keyword: one anchored
				// attempt, as long as the secret, whatever the line.
				if e.infoOf(int(ri)).nameFirst && !r.ValidName(nameAround(buf, start, end, we)) {
					continue
				}
				st.spent[ri] += int64(we - ws)
				st.work += int64(we - ws)
				st.match(buf, int(ri), window{start, we}, true)
				continue
			}
			// The window's bytes before the keyword are searched for a
			// line end, then by the expression: both count.
			st.spent[ri] += int64(we - ws)
			st.work += int64(we - ws)
			if !r.MultiLine {
				if i := bytes.LastIndexByte(buf[ws:start], '\n'); i >= 0 {
					ws += i + 1
				}
			}
			st.match(buf, int(ri), window{ws, we}, false)
		}
	})
}

// ahead remembers where a search for a literal ended (input offsets): the
// first occurrence at or after from is at at, or, when at is -1, there is
// none in [from, to). Keywords come in order of position, so keywords
// close together on one long line (or in one long PEM-less stretch) do not
// each search it again: the searches of one input cost about its length.
type ahead struct{ from, at, to int }

// index is the index of the first lit in buf[i:limit], or -1; base is the
// input offset of buf.
func (a *ahead) index(buf []byte, base int, lit []byte, i, limit int) int {
	at := base + i
	if at >= a.from {
		switch {
		case a.at >= 0 && at <= a.at:
			if p := a.at - base; p+len(lit) <= limit {
				return p
			}
			return -1
		case a.at < 0 && at <= a.to:
			// An occurrence may straddle where the last search stopped.
			from := max(i, a.to-base-len(lit)+1)
			if from >= limit {
				return -1
			}
			if j := bytes.Index(buf[from:limit], lit); j >= 0 {
				a.at = base + from + j
				return from + j
			}
			a.to = base + limit
			return -1
		}
	}
	a.from = at
	if j := bytes.Index(buf[i:limit], lit); j >= 0 {
		a.at = at + j
		return i + j
	}
	a.at, a.to = -1, base+limit
	return -1
}

var newlineLit = []byte{'\n'}

// newline is the index of the first newline in buf[i:limit], or -1.
func (st *state) newline(buf []byte, i, limit int) int {
	return st.nl1.index(buf, st.base, newlineLit, i, limit)
}

// closing cuts a window of rule ri that starts at buf[start:] and ends at
// we where the rule's Closing literal says its match must end: closingTail
// bytes past the literal's first occurrence. It returns -1 when the
// literal does not occur: the expression cannot match.
func (st *state) closing(buf []byte, ri, start, we int) int {
	r := st.e.rules[ri]
	if r.Closing == "" {
		return we
	}
	lit := st.e.closing[ri]
	i := st.closed[ri].index(buf, st.base, lit, start, we)
	if i < 0 {
		return -1
	}
	return min(we, i+len(lit)+closingTail)
}

// region searches one rule's expression once over regionWindows of its
// windows from the keyword at buf[start:] (from ws, where a Near window
// starts), and marks the stretch covered: a keyword of the rule in it has
// had its whole window searched. A match must still start at a keyword of
// the rule, pass the rule's precheck and fit the window that keyword would
// have had; where two candidate matches overlap, the expression's leftmost
// wins (this is the one difference from windows of their own, and only in
// text dense enough to need a region).
func (st *state) region(buf []byte, ri, start, ws int) {
	e := st.e
	r := e.rules[ri]
	re := min(start+regionWindows*r.after(), len(buf))
	reach := re - r.after()
	if !r.MultiLine {
		if i := st.newline(buf, start, re); i >= 0 {
			// The windows of the line's keywords all end here.
			re, reach = i, i
		}
	}
	if r.Closing != "" {
		// Nothing past the last closing literal of the region's windows
		// can be part of a match.
		if i := bytes.LastIndex(buf[start:re], st.e.closing[ri]); i < 0 {
			re = start
		} else {
			re = min(re, start+i+len(st.e.closing[ri])+closingTail)
		}
	}
	if re == len(buf) {
		// The reserve guarantees regionWindows windows unless the input
		// ends first: then every window ends here too.
		reach = re
	}
	if r.Near && !r.MultiLine {
		if i := bytes.LastIndexByte(buf[ws:start], '\n'); i >= 0 {
			ws += i + 1
		}
	}
	if !r.Near {
		ws = start
	}
	st.covered[ri] = stretch{st.base + start, st.base + max(reach, start+1)}
	st.spent[ri] += int64(re - ws)
	st.work += int64(re - ws)
	st.regions++
	inf := e.infoOf(ri)
	for _, loc := range inf.re.FindAllSubmatchIndex(buf[ws:re], -1) {

		if st.capped {
			return
		}
		if r.Near {
			st.keep(buf, ri, window{ws, re}, loc, false)
			continue
		}
		// The keyword the match starts at, and the window it would have
		// had.
		m0, m1 := ws+loc[0], ws+loc[1]
		end := -1
		for _, kw := range e.ruleKw[ri] {
			if e.index.matchAt(buf, m0, int(kw)) {
				end = m0 + len(e.index.words[kw])
				break
			}
		}
		if end < 0 {
			continue
		}
		we := min(end+r.after(), re)
		if m1 > we {
			continue
		}
		// The precheck reads up to the byte after the match: matches do
		// not overlap, so the region's prechecks read it about once.
		if r.Precheck != nil {
			pe := min(we, m1+1, end+precheckReach)
			st.prechecks++
			if pe < end || !r.Precheck(buf[end:pe]) {
				continue
			}
		}
		if inf.nameFirst && !r.ValidName(nameAround(buf, m0, end, m1)) {
			continue
		}
		shifted := slices.Clone(loc)
		for i := range shifted {
			if shifted[i] >= 0 {
				shifted[i] -= loc[0]
			}
		}
		st.keep(buf, ri, window{m0, we}, shifted, true)
	}
}

// assignment reports whether text (what follows a keyword inside a name)
// continues the name and then assigns: NAME["'] = , NAME: , NAME =>.
func assignment(text []byte) bool { return valueAt(text) >= 0 }

// literalAssignment is assignment to a value that does not start as a
// reference or a placeholder does (${VAR}, $VAR, <value>, {{ x }}, %VAR%)
// and is not a member expression of code (password:e.password).
func literalAssignment(text []byte) bool {
	i := valueAt(text)
	if i < 0 {
		return false
	}
	for i < len(text) && (text[i] == ' ' || text[i] == '\t' || text[i] == '"' || text[i] == '\'' || text[i] == '\\') {
		i++
	}
	if i >= len(text) || text[i] == '$' || text[i] == '<' || text[i] == '{' || text[i] == '%' {
		return false
	}
	// A dotted name up to the end of the value is code, which the
	// generic rule rejects anyway (dottedName); say so before the
	// expression runs.
	j, dots := i, 0
	for j < len(text) && (nameChars[text[j]] && text[j] != '-') {
		if text[j] == '.' {
			dots++
		}
		j++
	}
	if dots > 0 && j > i && text[i] != '.' && text[j-1] != '.' && (j == len(text) || bytes.IndexByte([]byte(",;)}] \t\r\n\"'"), text[j]) >= 0) {
		return !dottedName.Match(text[i:j])
	}
	return true
}

// equalsNext reports whether, after blanks, text continues with "=".
func equalsNext(text []byte) bool {
	i := 0
	for i < len(text) && (text[i] == ' ' || text[i] == '\t') {
		i++
	}
	return i < len(text) && text[i] == '='
}

// urlUserinfo reports whether the URL that text continues (after "://",
// or after a scheme such as "postgresql+psycopg2") has user information
// with a colon: user:password@ before the host ends.
func urlUserinfo(text []byte) bool {
	if i := bytes.Index(text[:min(len(text), 40)], []byte("://")); i >= 0 {
		text = text[i+3:]
	}
	colon := false
	for _, c := range text {
		switch c {
		case ':':
			colon = true
		case '@':
			return colon
		case '/', ' ', '\t', '\r', '\n', '"', '\'', '<', '>':
			return false
		}
	}
	return false
}

// valueAt is where the value of an assignment starts in text (the rest of
// a name, then the operator), or -1 when text does not assign.
func valueAt(text []byte) int {
	i := 0
	for i < len(text) && i < 64 && nameChars[text[i]] {
		i++
	}
	if i < len(text) && (text[i] == '"' || text[i] == '\'') {
		i++
	} else if i+1 < len(text) && text[i] == '\\' && text[i+1] == '"' {
		i += 2
	}
	for i < len(text) && (text[i] == ' ' || text[i] == '\t') {
		i++
	}
	if i >= len(text) {
		return -1
	}
	switch text[i] {
	case '=', ':', ',':
		i++
		if i < len(text) && (text[i] == '>' || text[i] == '=') {
			i++
		}
		return i
	case '?':
		if i+1 < len(text) && text[i+1] == '=' {
			return i + 2
		}
	}
	return -1
}

// nameAround is the identifier a keyword at buf[start:end] sits in: the
// name characters before it, the keyword, and those after it up to limit.
func nameAround(buf []byte, start, end, limit int) string {
	i := start
	for i > 0 && start-i < 64 && nameChars[buf[i-1]] {
		i--
	}
	j := end
	for j < limit && nameChars[buf[j]] {
		j++
	}
	return string(buf[i:j])
}

// nameChars may make up the identifier a keyword ends or sits in.
var nameChars = func() (t [256]bool) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") {
		t[c] = true
	}
	return t
}()

// match runs one rule over one window (anchored: once, at its start) and
// keeps what the checks accept.
func (st *state) match(buf []byte, ri int, w window, anchored bool) {
	inf := st.e.infoOf(ri)
	text := buf[w.start:w.end]
	if anchored {
		if loc := inf.anchored.FindSubmatchIndex(text); loc != nil {
			st.keep(buf, ri, w, loc, true)
		}
		return
	}
	for _, loc := range inf.re.FindAllSubmatchIndex(text, -1) {
		st.keep(buf, ri, w, loc, false)
	}
}

// keep judges one match of rule ri in window w (loc is relative to
// w.start; anchored: the match starts at w.start, at its keyword) and
// keeps it if the checks accept it, up to the match cap.
func (st *state) keep(buf []byte, ri int, w window, loc []int, anchored bool) {
	r := st.e.rules[ri]
	inf := st.e.infoOf(ri)
	text := buf[w.start:w.end]
	s, en := span(loc, inf.secretGroups, r.Group)
	if s < 0 || s == en {
		return
	}
	if b := inf.boundary; b != nil {
		if p := w.start + s; p > 0 && b[buf[p-1]] {
			return
		}
		if p := w.start + en; p < len(buf) && b[buf[p]] {
			return
		}
	}
	if r.ValidName != nil && !(anchored && inf.nameFirst) {
		// A name judges the match only where the expression has
		// one: a rule may combine a prefixed format with a named one.
		if ns, ne := span(loc, inf.nameGroups, -1); ns >= 0 {
			name := string(text[ns:ne])
			if anchored && ns == 0 {
				// The keyword may sit inside the name: DB_PASSWORD
				// is matched from PASSWORD.
				i := w.start
				for i > 0 && w.start-i < 64 && nameChars[buf[i-1]] {
					i--
				}
				name = string(buf[i:w.start]) + name
			}
			if !r.ValidName(name) {
				return
			}
		}
	}
	if r.ValidHost != nil {
		if hs, he := span(loc, inf.hostGroups, -1); hs >= 0 && !r.ValidHost(string(text[hs:he])) {
			return
		}
	}
	if r.Severity == finding.Info && !st.e.opts.Info {
		// Dropped by result anyway; they must not count against the cap.
		return
	}
	secret := string(text[s:en])
	if !acceptable(r, secret) {
		return
	}
	abs := st.base + w.start + s
	key := [3]int{ri, abs, abs + len(secret)}
	if st.seen[key] {
		return
	}
	if st.e.maxMatches > 0 && len(st.matches) >= st.e.maxMatches {
		st.capped = true
		return
	}
	st.seen[key] = true
	m := Match{Rule: r, Secret: secret, Start: abs, End: abs + len(secret)}
	if st.lines {
		m.Line, m.Column = st.position(buf, w.start+s)
	}
	m.Severity, m.Note = r.Severity, ""
	if r.Severity > finding.Info {
		if st.severity == nil {
			st.severity = placement(st.path)
		}
		m.Severity, m.Note = st.severity(r.Severity)
	}
	st.matches = append(st.matches, m)
}

// span picks the secret's submatch: the first named group that took
// part, else group g (-1: none).
func span(loc []int, named []int, g int) (int, int) {
	for _, i := range named {
		if loc[2*i] >= 0 {
			return loc[2*i], loc[2*i+1]
		}
	}
	if g < 0 || 2*g+1 >= len(loc) {
		return -1, -1
	}
	return loc[2*g], loc[2*g+1]
}

// acceptable applies the checks every rule shares, then the rule's own.
func acceptable(r *Rule, secret string) bool {
	if r.MinEntropy > 0 && Entropy(secret) < r.MinEntropy {
		return false
	}
	if documentedExample(secret) || placeholderSecret(secret) {
		return false
	}
	return r.Valid == nil || r.Valid(secret)
}

// position is the 1-based line and byte column of buf[off].
func (st *state) position(buf []byte, off int) (int, int) {
	if len(st.nlFor) != len(buf) || (len(buf) > 0 && &st.nlFor[0] != &buf[0]) {
		st.nl = st.nl[:0]
		for i := 0; ; {
			j := bytes.IndexByte(buf[i:], '\n')
			if j < 0 {
				break
			}
			st.nl = append(st.nl, i+j)
			i += j + 1
		}
		st.nlFor = buf
	}
	n := sort.SearchInts(st.nl, off)
	line := st.lineBase + n + 1
	prev := st.lastNL - st.base
	if n > 0 {
		prev = st.nl[n-1]
	}
	return line, off - prev
}

// finish puts the matches into res and counts a capped input.
func (st *state) finish(res *Result) {
	res.Capped = st.capped
	e := st.e
	if st.capped {
		e.stats.capped.Add(1)
	}
	e.stats.work.Add(st.work)
	e.stats.prechecks.Add(st.prechecks)
	e.stats.regions.Add(st.regions)
	res.Matches = st.result()
}

// result resolves overlapping matches and orders them by position, and
// gives the state back to the pool.
func (st *state) result() []Match {
	ms := st.matches
	st.matches = nil
	st.e.states.Put(st)
	if !st.e.opts.Info {
		ms = slices.DeleteFunc(ms, func(m Match) bool { return m.Rule.Severity == finding.Info })
	}
	if len(ms) < 2 {
		return ms
	}
	// The least general rule wins bytes two rules both claim; then the
	// more severe, the longer, the earlier, the lower ID.
	slices.SortFunc(ms, func(a, b Match) int {
		return cmp.Or(
			cmp.Compare(a.Rule.Fallback, b.Rule.Fallback),
			cmp.Compare(b.Rule.Severity, a.Rule.Severity),
			cmp.Compare(b.End-b.Start, a.End-a.Start),
			cmp.Compare(a.Start, b.Start),
			cmp.Compare(a.Rule.ID, b.Rule.ID),
		)
	})
	var kept []Match // sorted by Start, non-overlapping
	for _, m := range ms {
		i := sort.Search(len(kept), func(i int) bool { return kept[i].Start >= m.Start })
		if i > 0 && kept[i-1].End > m.Start || i < len(kept) && kept[i].Start < m.End {
			continue
		}
		kept = slices.Insert(kept, i, m)
	}
	return kept
}
