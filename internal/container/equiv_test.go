package container_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dockvet/dockvet/internal/compose"
	"github.com/dockvet/dockvet/internal/container"
	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/policy"
	"github.com/dockvet/dockvet/internal/runline"
)

// equivalents are the same settings written as a Compose service and as a
// `docker run` line. Both must give the same rule IDs: one spec, one set
// of rules.
var equivalents = []struct {
	name, compose string
	run           []string
	image         string
}{
	{name: "defaults"},
	{name: "digest required by the trust policy", image: "registry.example.com/pinned/app:2"},
	{name: "hardened",
		compose: "cap_drop: [ALL]\nsecurity_opt: [no-new-privileges:true]\nread_only: true\nmem_limit: 256m\ncpus: 0.5\npids_limit: 100\nuser: \"10001\"",
		run:     words("--cap-drop ALL --security-opt no-new-privileges:true --read-only --memory 256m --cpus 0.5 --pids-limit 100 --user 10001"),
		image:   "nginx:1.27"},
	{name: "privileged and capabilities",
		compose: "privileged: true\ncap_add: [SYS_ADMIN, NET_BIND_SERVICE]\ncap_drop: [ALL]",
		run:     words("--privileged --cap-add SYS_ADMIN --cap-add NET_BIND_SERVICE --cap-drop ALL")},
	{name: "confinement off",
		compose: "security_opt: [seccomp=unconfined, apparmor=unconfined, label=disable, systempaths=unconfined, no-new-privileges:false]",
		run: words("--security-opt seccomp=unconfined --security-opt apparmor=unconfined --security-opt label=disable " +
			"--security-opt systempaths=unconfined --security-opt no-new-privileges:false")},
	{name: "host namespaces",
		compose: "pid: host\nipc: host\nuts: host\nnetwork_mode: host\nuserns_mode: host\ncgroup: host\nsysctls: [net.ipv4.ip_forward=1, kernel.randomize_va_space=0]",
		run:     words("--pid host --ipc host --uts host --network host --userns host --cgroupns host --sysctl net.ipv4.ip_forward=1 --sysctl kernel.randomize_va_space=0")},
	{name: "mounts and devices",
		compose: "volumes: [/var/run/docker.sock:/var/run/docker.sock:ro, /etc:/host/etc, /srv:/srv:rshared]\ndevices: [/dev/sda:/dev/sda]\ndevice_cgroup_rules: ['a *:* rwm']",
		run: append(words("-v /var/run/docker.sock:/var/run/docker.sock:ro -v /etc:/host/etc -v /srv:/srv:rshared --device /dev/sda:/dev/sda"),
			"--device-cgroup-rule", "a *:* rwm")},
	{name: "docker host", compose: "environment: [DOCKER_HOST=tcp://dind:2375]", run: words("-e DOCKER_HOST=tcp://dind:2375")},
	{name: "docker host socket", compose: "environment: [DOCKER_HOST=unix:///run/docker.sock]", run: words("-e DOCKER_HOST=unix:///run/docker.sock")},
	{name: "limits off", compose: "mem_limit: 0\npids_limit: -1\nulimits: {nofile: -1}", run: words("--memory 0 --pids-limit -1 --ulimit nofile=-1")},
	{name: "cgroup parent", compose: "cgroup_parent: /batch.slice", run: words("--cgroup-parent /batch.slice")},
	{name: "restart", compose: "restart: always", run: words("--restart always")},
	{name: "restart on failure", compose: "restart: on-failure", run: words("--restart on-failure")},
	{name: "ports", compose: "ports: ['5432:5432', '22:22', '127.0.0.1:6379:6379']", run: words("-p 5432:5432 -p 22:22 -p 127.0.0.1:6379:6379")},
	{name: "root", compose: "user: root", run: words("--user root")},
	{name: "secret", compose: "environment: {DB_PASSWORD: s3cr3t-Pa55w0rd}", run: words("-e DB_PASSWORD=s3cr3t-Pa55w0rd")},
	{name: "logging", compose: "logging: {driver: none}", run: words("--log-driver none")},
	{name: "api socket", compose: "use_api_socket: true", run: words("--use-api-socket")},
}

func words(s string) []string { return strings.Fields(s) }

// image is the default image of a case: untagged and untrusted.
const image = "quay.io/acme/app:latest"

func TestComposeAndRunAgree(t *testing.T) {
	pol := &policy.Policy{TrustedRegistries: []string{"docker.io"},
		Rules: []policy.Rule{{Images: []string{"registry.example.com/pinned"}, Digests: policy.DigestsRequired}}}
	seen := map[string]bool{}
	for _, tc := range equivalents {
		t.Run(tc.name, func(t *testing.T) {
			var svc strings.Builder
			img := tc.image
			if img == "" {
				img = image
			}
			svc.WriteString("services:\n  app:\n    image: " + img + "\n")
			for _, l := range strings.Split(tc.compose, "\n") {
				if l != "" {
					svc.WriteString("    " + l + "\n")
				}
			}
			file := filepath.Join(t.TempDir(), "compose.yaml")
			if err := os.WriteFile(file, []byte(svc.String()), 0o644); err != nil {
				t.Fatal(err)
			}
			p, err := compose.Load(context.Background(), compose.Options{Files: []string{file}})
			if err != nil {
				t.Fatal(err)
			}
			fromCompose := ids(p.Audit(compose.AuditOptions{Policy: pol}))

			args := append(append([]string{"docker", "run"}, tc.run...), img)
			spec, err := runline.Parse(runline.Command{Args: args}, runline.Options{})
			if err != nil {
				t.Fatal(err)
			}
			fromRun := ids(container.Check(spec, container.Options{Policy: pol}))
			if !slices.Equal(fromCompose, fromRun) {
				t.Errorf("compose %v\n    run %v", fromCompose, fromRun)
			}
			for _, id := range fromRun {
				seen[id] = true
			}
		})
	}
	// Every rule that both can express is exercised by some pair.
	for _, r := range container.Catalog() {
		if r.ID == "DV3042" { // -P has no Compose equivalent
			continue
		}
		if r.ID == "DV3062" { // the grouped finding: its rules are compared one by one (ids)
			continue
		}
		if !seen[r.ID] {
			t.Errorf("no equivalent pair exercises %s (%s)", r.ID, r.Title)
		}
	}
}

// ids are the rules of findings; a Compose service's one finding of unset
// settings (DV3062) counts as the rules it lists, which a `docker run` line
// gets one by one.
func ids(fs []finding.Finding) []string {
	var out []string
	for _, f := range fs {
		if len(f.Missing) > 0 {
			for _, m := range f.Missing {
				out = append(out, m.RuleID)
			}
			continue
		}
		out = append(out, f.RuleID)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// TestCatalog: every container and Compose rule is valid and in the
// DV3xxx range, IDs are unique, and the list Check runs is in ID order.
// Their cases are the annotated files of compose, runline and live
// testdata (the catalog test requires a positive and a negative case).
func TestCatalog(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range append(container.Catalog(), compose.Catalog()...) {
		if err := r.Validate(); err != nil {
			t.Error(err)
		}
		if !strings.HasPrefix(r.ID, "DV3") || seen[r.ID] {
			t.Errorf("rule %s: IDs are DV3xxx and unique", r.ID)
		}
		seen[r.ID] = true
	}
	rules := container.Rules()
	if !slices.IsSortedFunc(rules, func(a, b *container.Rule) int { return strings.Compare(a.ID, b.ID) }) {
		t.Error("container rules are not listed in ID order")
	}
}
