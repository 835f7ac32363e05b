//go:build linux

package hostile

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Limits of a run and the acceptance bounds of issue 19.
const (
	// KillAfter ends a child that has not finished: far above the 2 s of
	// CPU a case may use (the machine is shared), and what the report
	// calls a hang. Only a guard for CI — not a timed assertion.
	KillAfter = 20 * time.Second
	// KillRSS ends a child whose resident memory passes it, so a case
	// that blows up does not take the machine with it (the issue measured
	// 22.6 GB). Polled from /proc, since RLIMIT_AS would also limit Go's
	// virtual reservations.
	KillRSS = 1 << 30
	// MaxRSS is the acceptance bound on peak memory (issue 19: under 150 MiB).
	MaxRSS = 150 << 20
	// CPURatio and CPUFloor: a case fails when its CPU time is over
	// CPURatio times its twin's and over CPUFloor — the floor keeps noise
	// on tiny inputs from flaking, and is the "under 2 s of CPU".
	CPURatio = 20
	CPUFloor = 2 * time.Second
	// keepOutput caps what is kept of a child's stdout and stderr (a
	// hostile case wrote a 338 MB report); the total is still counted.
	keepOutput = 8 << 20
)

// Result is one run of a case.
type Result struct {
	Case   Case
	Exit   int           // -1 when killed
	CPU    time.Duration // user + system, from the child's rusage
	MaxRSS int64         // bytes, from the child's rusage: max(the child's peak, RunnerRSS)
	// RunnerRSS is this process's resident memory when the child
	// started, which the child's MaxRSS cannot be below (lowerHiwater).
	RunnerRSS int64
	Killed    string // "", "time" or "memory"
	Stdout    []byte // the first keepOutput bytes
	Stderr    []byte
	OutBytes  int64 // all of stdout
	Skipped   string
}

// RunOptions say how children run.
type RunOptions struct {
	// Dockvet is the binary.
	Dockvet string
	// Root is the corpus directory (Generate's).
	Root string
	// Registry is "host:port" of the case's server, when it needs one.
	Registry string
}

// Run runs one case as a child process and measures it.
func Run(ctx context.Context, c Case, o RunOptions) Result {
	res := Result{Case: c, Exit: -1}
	dir := filepath.Join(o.Root, c.Name)
	argv := make([]string, len(c.Args))
	for i, a := range c.Args {
		argv[i] = strings.ReplaceAll(a, "{{registry}}", o.Registry)
	}
	// Each child gets its own HOME and cache: no Docker configuration, no
	// vulnerability database, no layer cache shared between cases.
	// A fresh cache per run, or the layer cache of an earlier run (the
	// twin's, the same layer) would hide the work a first run does.
	home := filepath.Join(o.Root, ".home", c.Name)
	if err := os.RemoveAll(home); err != nil {
		res.Skipped = err.Error()
		return res
	}
	if err := os.MkdirAll(filepath.Join(home, "cache"), 0o777); err != nil {
		res.Skipped = err.Error()
		return res
	}
	for _, d := range []string{filepath.Dir(home), home, filepath.Join(home, "cache")} {
		_ = os.Chmod(d, 0o777) // nobody (row 12) writes there too
	}
	cmd := exec.Command(o.Dockvet, argv...)
	cmd.Dir = dir
	cmd.Env = []string{
		"PATH=/usr/local/bin:/usr/bin:/bin",
		"HOME=" + home,
		"DOCKVET_CACHE_DIR=" + filepath.Join(home, "cache"),
		"DOCKER_HOST=unix:///nonexistent/docker.sock",
		"NO_COLOR=1",
		"LANG=C.UTF-8",
	}
	if c.AsNobody && os.Geteuid() == 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	}
	stdout := &capped{max: keepOutput}
	stderr := &capped{max: keepOutput}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	lowerHiwater()
	res.RunnerRSS = rss("/proc/self/status")
	if err := cmd.Start(); err != nil {
		res.Skipped = "start: " + err.Error()
		return res
	}
	done := make(chan struct{})
	killed := make(chan string, 1)
	go watch(ctx, cmd.Process, done, killed)
	err := cmd.Wait()
	close(done)
	select {
	case k := <-killed:
		res.Killed = k
	default:
	}
	if st := cmd.ProcessState; st != nil {
		if ru, ok := st.SysUsage().(*syscall.Rusage); ok {
			res.CPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
			res.MaxRSS = ru.Maxrss << 10 // Linux reports KiB
		}
		if res.Killed == "" {
			res.Exit = st.ExitCode()
		}
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		res.Skipped = "wait: " + err.Error()
	}
	res.Stdout, res.Stderr, res.OutBytes = stdout.buf.Bytes(), stderr.buf.Bytes(), stdout.n
	return res
}

// lowerHiwater brings this process's peak RSS down to its current RSS,
// made small first. Go starts children with vfork (CLONE_VM), and Linux
// carries the peak RSS of the memory the child ran on before exec — this
// process's — into the child's rusage Maxrss: without this, a child of a
// runner that once held a large generated layer would report that
// runner's peak as its own. clear_refs "5" resets the peak (Linux 4.0+)
// to the current RSS, so the child's MaxRSS is max(its own peak, the
// runner's RSS at the start): exact above the runner's RSS (Result.
// RunnerRSS), which is all the bound MaxRSS needs while the runner is
// smaller than it (25–40 MiB under -race, since Cases builds no contents).
func lowerHiwater() {
	debug.FreeOSMemory()
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// watch kills the child past KillAfter or KillRSS.
func watch(ctx context.Context, p *os.Process, done <-chan struct{}, killed chan<- string) {
	deadline := time.NewTimer(KillAfter)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	status := fmt.Sprintf("/proc/%d/status", p.Pid)
	for {
		select {
		case <-done:
			return
		case <-ctx.Done():
			killed <- "cancelled"
			_ = p.Kill()
			return
		case <-deadline.C:
			killed <- "time"
			_ = p.Kill()
			return
		case <-tick.C:
			if rss(status) > KillRSS {
				killed <- "memory"
				_ = p.Kill()
				return
			}
		}
	}
}

// rss reads VmRSS (bytes) from /proc/PID/status; 0 when unknown.
func rss(status string) int64 {
	b, err := os.ReadFile(status)
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n << 10
		}
	}
	return 0
}

type capped struct {
	buf bytes.Buffer
	max int
	n   int64
}

func (c *capped) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	if room := c.max - c.buf.Len(); room > 0 {
		c.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// Check returns every way r breaks its case's expectations (nothing when
// it holds); twin is the twin's run (nil for a twin).
func Check(r Result, twin *Result) []string {
	c := r.Case
	var bad []string
	if r.Skipped != "" {
		return []string{"could not run: " + r.Skipped}
	}
	switch r.Killed {
	case "time":
		// A child that barely used the CPU in all that time was blocked.
		what := "runaway CPU"
		if r.CPU < time.Second {
			what = "hang"
		}
		return []string{fmt.Sprintf("%s: killed after %s of wall time (%.1f s CPU, %d MiB peak)", what, KillAfter, r.CPU.Seconds(), r.MaxRSS>>20)}
	case "memory":
		return []string{fmt.Sprintf("memory blow-up: killed at %d MiB resident (%.1f s CPU)", KillRSS>>20, r.CPU.Seconds())}
	case "cancelled":
		return []string{"cancelled"}
	}
	lines := stderrLines(r.Stderr)
	refusal := func(pat interface{ MatchString(string) bool }, what string) {
		switch {
		case len(lines) == 0:
			bad = append(bad, "exit 2 with nothing on stderr")
		case len(lines) > 1:
			bad = append(bad, fmt.Sprintf("exit 2 with %d lines on stderr, not one: %q…", len(lines), clip(lines[0])))
		case !pat.MatchString(lines[0]):
			bad = append(bad, fmt.Sprintf("refusal does not %s: %q", what, clip(lines[0])))
		}
	}
	switch c.Expect {
	case Ordinary:
		if r.Exit != 0 && r.Exit != 1 {
			bad = append(bad, fmt.Sprintf("exit %d, want 0 or 1 (stderr: %q)", r.Exit, clip(first(lines))))
		}
	case Handled:
		switch r.Exit {
		case 0, 1:
		case 2:
			pat, what := budgetRefusal, "name a budget or limit"
			if c.Refusal != nil {
				pat, what = c.Refusal, "match "+c.Refusal.String()
			}
			refusal(pat, what)
		default:
			bad = append(bad, fmt.Sprintf("exit %d, want 0, 1 or a one-line refusal (stderr: %q)", r.Exit, clip(first(lines))))
		}
	case Refused:
		if r.Exit != 2 {
			bad = append(bad, fmt.Sprintf("exit %d, want 2 with a one-line refusal matching %s", r.Exit, c.Refusal))
		} else {
			refusal(c.Refusal, "match "+c.Refusal.String())
		}
	case Incomplete:
		if r.Exit != 2 {
			bad = append(bad, fmt.Sprintf("exit %d, want 2 (the run was incomplete)", r.Exit))
		}
		var rep struct {
			Errors []json.RawMessage `json:"errors"`
		}
		if err := json.Unmarshal(r.Stdout, &rep); err != nil {
			bad = append(bad, "the JSON report does not parse: "+clip(err.Error()))
		} else if len(rep.Errors) == 0 {
			bad = append(bad, "the JSON report has no errors entry (skipped in silence)")
		}
	}
	ratio := time.Duration(CPURatio)
	if c.Ratio > 0 {
		ratio = c.Ratio
	}
	if twin != nil && r.CPU > CPUFloor && r.CPU > ratio*twin.CPU {
		bad = append(bad, fmt.Sprintf("CPU %.2f s is %.0f× its twin %s (%.3f s); the bound is max(%d×, %s)",
			r.CPU.Seconds(), r.CPU.Seconds()/max(twin.CPU.Seconds(), 1e-3), c.Twin, twin.CPU.Seconds(), ratio, CPUFloor))
	}
	if r.RunnerRSS >= MaxRSS {
		bad = append(bad, fmt.Sprintf("cannot judge memory: the runner itself was at %d MiB when the child started", r.RunnerRSS>>20))
	} else if r.MaxRSS > MaxRSS {
		bad = append(bad, fmt.Sprintf("peak memory %d MiB, over %d MiB", r.MaxRSS>>20, MaxRSS>>20))
	}
	for _, s := range c.Secrets {
		if off, where := leaked(s, r); where != "" {
			bad = append(bad, fmt.Sprintf("planted secret %s printed past its first 4 characters on %s (from character %d)", s[:4]+"****", where, off))
		}
	}
	// The checker's own messages quote stderr: mask the planted secrets.
	for i := range bad {
		bad[i] = mask(bad[i], c.Secrets)
	}
	return bad
}

// mask replaces each secret by its first 4 characters and ****.
func mask(s string, secrets []string) string {
	for _, sec := range secrets {
		s = strings.ReplaceAll(s, sec, sec[:4]+"****")
	}
	return s
}

// leaked finds any 8 characters of the secret past its first 4 in the
// output: masking keeps the first 4, so anything more is the secret.
func leaked(secret string, r Result) (offset int, where string) {
	for i := 4; i+8 <= len(secret); i++ {
		w := []byte(secret[i : i+8])
		if bytes.Contains(r.Stdout, w) {
			return i, "stdout"
		}
		if bytes.Contains(r.Stderr, w) {
			return i, "stderr"
		}
	}
	return 0, ""
}

func stderrLines(b []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), keepOutput)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// FirstLine is the first non-empty stderr line, clipped (the table's
// last column).
func (r Result) FirstLine() string {
	return mask(clip(first(stderrLines(r.Stderr))), r.Case.Secrets)
}

func first(l []string) string {
	if len(l) == 0 {
		return ""
	}
	return l[0]
}

func clip(s string) string {
	if len(s) > 160 {
		return s[:160] + "…"
	}
	return s
}

// RunAll runs the cases one after the other (the machine is shared; CPU
// time is measured per child, so sequential runs keep it honest), each
// twin before the cases measured against it, and calls report with each
// run and what Check found wrong. A case whose twin did not run is
// measured without a ratio.
func RunAll(ctx context.Context, cases []Case, o RunOptions, report func(Result, []string)) error {
	twins := map[string]*Result{}
	ordered := make([]Case, 0, len(cases))
	for _, c := range cases {
		if c.IsTwin() {
			ordered = append(ordered, c)
		}
	}
	for _, c := range cases {
		if !c.IsTwin() {
			ordered = append(ordered, c)
		}
	}
	for _, c := range ordered {
		if err := ctx.Err(); err != nil {
			return err
		}
		addr, stop, err := StartServer(c.Server)
		if err != nil {
			return fmt.Errorf("%s: %w", c.Name, err)
		}
		oo := o
		oo.Registry = addr
		r := Run(ctx, c, oo)
		stop()
		var twin *Result
		if c.IsTwin() {
			twins[c.Name] = &r
		} else {
			twin = twins[c.Twin]
		}
		report(r, Check(r, twin))
	}
	return nil
}
