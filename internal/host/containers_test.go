package host

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/moby/moby/client"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/policy"
)

func TestIsSSHServer(t *testing.T) {
	for cmd, want := range map[string]bool{
		"/usr/sbin/sshd -D": true,
		"sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups": true,
		"sshd: alice@pts/0":              true,
		"dropbear -F -E -p 22":           true,
		"/usr/bin/dropbear -R":           true,
		"grep sshd /etc/services":        false,
		"tail -f /var/log/sshd.log":      false,
		"ssh -N -L 5432:db:5432 bastion": false,
		"/app --sshd-port 2222":          false,
		"/usr/lib/openssh/sftp-server":   false,
		"":                               false,
	} {
		if got := isSSHServer(cmd); got != want {
			t.Errorf("isSSHServer(%q) = %v, want %v", cmd, got, want)
		}
	}
}

func TestProcesses(t *testing.T) {
	// ps -ef as the Engine runs it, and BusyBox ps, which names its
	// columns differently.
	for _, top := range []client.ContainerTopResult{
		{Titles: []string{"UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"},
			Processes: [][]string{{"root", "4242", "4200", "0", "10:00", "?", "00:00:00", "/usr/sbin/sshd -D"}}},
		{Titles: []string{"PID", "USER", "TIME", "COMMAND"}, Processes: [][]string{{"4242", "root", "0:00", "/usr/sbin/sshd -D"}}},
	} {
		ps := processes(top)
		if len(ps) != 1 || ps[0] != (Process{PID: "4242", User: "root", Command: "/usr/sbin/sshd -D"}) {
			t.Errorf("%v: %+v", top.Titles, ps)
		}
	}
	if ps := processes(client.ContainerTopResult{Titles: []string{"PID"}}); ps == nil || len(ps) != 0 {
		t.Errorf("no processes listed is known and empty, not unknown: %#v", ps)
	}
}

// TestFoldedDefault: the host cgroup namespace every container gets on a
// cgroup v1 host is reported once (DV4812). Turned off, each container
// reports it again (DV3015).
func TestFoldedDefault(t *testing.T) {
	s := loadFixture(t, filepath.Join("testdata", "hosts", "insecure"))
	count := func(o CheckOptions) (host int, perContainer []string) {
		findings, _ := Check(s, o)
		for _, f := range findings {
			switch f.RuleID {
			case "DV4812":
				host++
			case "DV3015":
				perContainer = append(perContainer, f.Location.Container)
			}
		}
		slices.Sort(perContainer)
		return host, perContainer
	}
	if h, per := count(CheckOptions{Now: testNow}); h != 1 || len(per) != 0 {
		t.Errorf("folded: DV4812 ×%d, DV3015 in %v", h, per)
	}
	off := CheckOptions{Now: testNow, Enabled: func(r *finding.Rule) bool { return r.ID != "DV4812" }}
	if h, per := count(off); h != 0 || !slices.Equal(per, []string{"db", "web"}) {
		t.Errorf("DV4812 off: DV4812 ×%d, DV3015 in %v", h, per)
	}
}

// TestContainerRowsFollowConfig: a disabled rule leaves its row; a trust
// policy makes CIS 4.2 a check.
func TestContainerRowsFollowConfig(t *testing.T) {
	s := loadFixture(t, filepath.Join("testdata", "hosts", "insecure"))
	rows := func(o CheckOptions) map[string]finding.Check {
		o.Now = testNow
		_, checks := Check(s, o)
		out := map[string]finding.Check{}
		for _, c := range checks {
			out[c.RuleID] = c
		}
		return out
	}
	noCaps := rows(CheckOptions{Enabled: func(r *finding.Rule) bool { return r.ID != "DV3002" }})
	if _, ok := noCaps["DV3002,DV3003"]; ok || noCaps["DV3003"].Status != finding.CheckWarn {
		t.Errorf("with DV3002 off the 5.4 row is DV3003 alone: %+v", noCaps["DV3003"])
	}
	trusted := rows(CheckOptions{Policy: &policy.Policy{TrustedRegistries: []string{"docker.io"}}})
	if r := trusted["DV3072,DV3073"]; r.Status != finding.CheckWarn || r.CIS != "4.2" || !strings.Contains(r.Note, "web") || strings.Contains(r.Note, "db") {
		t.Errorf("4.2 with a trust policy: %+v", r)
	}
}

// TestPassedContainerRows: --show-passed turns passed container checks
// into info findings with the row's CIS ID.
func TestPassedContainerRows(t *testing.T) {
	s := loadFixture(t, filepath.Join("testdata", "hosts", "hardened"))
	_, checks := Check(s, CheckOptions{Now: testNow})
	var msgs []string
	for _, f := range Passed(s, checks) {
		if f.Severity != finding.Info {
			t.Errorf("%s: %s", f.RuleID, f.Severity)
		}
		msgs = append(msgs, f.RuleID+" "+f.CIS+" "+f.Message)
	}
	for _, want := range []string{
		"DV3002 5.4 Passed CIS 5.4: Ensure that Linux kernel capabilities are restricted within containers.",
		"DV3034 5.27 Passed CIS 5.27: Ensure that container health is checked at runtime.",
		"DV4507 5.7 Passed CIS 5.7: Ensure sshd is not run within containers.",
		"DV3050  Passed: Ensure containers do not run as root.",
	} {
		if !slices.Contains(msgs, want) {
			t.Errorf("no %q", want)
		}
	}
}

// TestContainerRowTitles: every container rule has a benchmark row with
// the benchmark's words.
func TestContainerRowTitles(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range containerRows() {
		if r.title == "" {
			t.Errorf("row %s %v has no title", r.cis, r.rules)
		}
		for _, id := range r.rules {
			seen[id] = true
		}
	}
	for _, r := range containerCatalog() {
		if !seen[r.ID] && !liveOnlyNot[r.ID] {
			t.Errorf("%s has no benchmark row", r.ID)
		}
	}
}

// automatedCIS are the checks CIS Docker Benchmark 1.6.0 calls automated
// in sections 1-3 and 5 (docker-bench-security 1.6.0 labels them the same
// way). Each must have a rule: a host rule (tested over the fixture hosts
// by TestEveryRuleHasCases) or a container rule (tested with Compose and
// `docker run` testdata by internal/container's TestCatalog, and against
// the Engine by internal/live).
var automatedCIS = []string{
	"1.1.1", "1.1.2", "1.1.3", "1.1.4", "1.1.5", "1.1.6", "1.1.7", "1.1.8", "1.1.9", "1.1.10", "1.1.11", "1.1.12",
	"1.1.13", "1.1.14", "1.1.15", "1.1.16", "1.1.17", "1.1.18",
	"2.2", "2.3", "2.4", "2.5", "2.6", "2.7", "2.9", "2.10", "2.11", "2.12", "2.13", "2.14", "2.15", "2.16", "2.18",
	"3.1", "3.2", "3.3", "3.4", "3.5", "3.6", "3.7", "3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14", "3.15",
	"3.16", "3.17", "3.18", "3.19", "3.20", "3.21", "3.22", "3.23", "3.24",
	"5.1", "5.2", "5.3", "5.4", "5.5", "5.6", "5.7", "5.8", "5.10", "5.11", "5.12", "5.13", "5.14", "5.15", "5.16",
	"5.17", "5.20", "5.21", "5.22", "5.23", "5.25", "5.26", "5.27", "5.29", "5.31", "5.32",
}

// TestCISCoverage: every automated check of sections 1-3 and 5 has a rule
// and a row in the benchmark table.
func TestCISCoverage(t *testing.T) {
	rules := map[string][]string{}
	for _, r := range Rules() {
		rules[r.CIS] = append(rules[r.CIS], r.ID)
	}
	for _, r := range containerCatalog() {
		rules[r.CIS] = append(rules[r.CIS], r.ID)
	}
	s := loadFixture(t, filepath.Join("testdata", "hosts", "hardened"))
	_, checks := Check(s, CheckOptions{Now: testNow})
	rows := map[string]bool{}
	for _, c := range checks {
		rows[c.CIS] = true
	}
	for _, id := range automatedCIS {
		if len(rules[id]) == 0 {
			t.Errorf("CIS %s has no rule", id)
		}
		if !rows[id] {
			t.Errorf("CIS %s has no benchmark row", id)
		}
	}
}
