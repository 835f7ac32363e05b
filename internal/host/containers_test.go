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
	if r := trusted["DV3072"]; r.Status != finding.CheckWarn || r.CIS != "4.2" || !strings.Contains(r.Note, "web") || strings.Contains(r.Note, "db") {
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
