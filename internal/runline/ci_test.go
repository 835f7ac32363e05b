package runline_test

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
	"github.com/dockvet/dockvet/internal/runline"
)

// ciEquivalents are CI files and the Compose file that starts the same
// containers: each container must face the same rules either way.
var ciEquivalents = []struct {
	name, file, src, compose string
	find                     func(string, []byte) ([]runline.Command, error)
}{
	{name: "GitHub Actions job container and services", file: ".github/workflows/ci.yml", find: runline.GitHubContainers, src: `
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    container:
      image: node:18
      options: --privileged --cap-add SYS_ADMIN
    services:
      redis:
        image: redis:7
        ports:
          - 6379:6379
        env:
          REDIS_PASSWORD: s3cr3t-Pa55w0rd-xyz
        volumes:
          - /var/run/docker.sock:/var/run/docker.sock
      db:
        image: postgres:16
        options: >-
          --health-cmd pg_isready --memory 512m --user postgres
    steps:
      - run: npm test
  lint:
    runs-on: ubuntu-latest
    container: golang:1.23
    steps:
      - run: go vet ./...
`, compose: `
services:
  build:
    image: node:18
    privileged: true
    cap_add: [SYS_ADMIN]
  redis:
    image: redis:7
    ports: ["6379:6379"]
    environment:
      REDIS_PASSWORD: s3cr3t-Pa55w0rd-xyz
    volumes: ["/var/run/docker.sock:/var/run/docker.sock"]
  db:
    image: postgres:16
    healthcheck: {test: ["CMD-SHELL", "pg_isready"]}
    mem_limit: 512m
    user: postgres
  lint:
    image: golang:1.23
`},
	{name: "GitLab CI with an unauthenticated dind service", file: ".gitlab-ci.yml", find: runline.GitLabContainers, src: `
variables:
  DOCKER_HOST: tcp://docker:2375
  DOCKER_TLS_CERTDIR: ""
build:
  image: docker:24
  services:
    - docker:24-dind
  script:
    - docker build .
test:
  image: {name: "python:3.12", entrypoint: [""]}
  services:
    - name: postgres:16
      alias: db
      variables:
        POSTGRES_PASSWORD: s3cr3t-Pa55w0rd-xyz
  variables:
    DOCKER_HOST: ""
  script: [pytest]
.template:
  image: alpine:3
`, compose: `
services:
  build:
    image: docker:24
    environment: {DOCKER_HOST: "tcp://docker:2375", DOCKER_TLS_CERTDIR: ""}
  docker:
    image: docker:24-dind
    environment: {DOCKER_HOST: "tcp://docker:2375", DOCKER_TLS_CERTDIR: ""}
  test:
    image: python:3.12
    environment: {DOCKER_HOST: "", DOCKER_TLS_CERTDIR: ""}
  db:
    image: postgres:16
    environment: {DOCKER_HOST: "", DOCKER_TLS_CERTDIR: "", POSTGRES_PASSWORD: s3cr3t-Pa55w0rd-xyz}
`},
}

// TestCIContainersAgreeWithCompose: the containers of a CI file face the
// same rules as the Compose file that starts the same containers, each
// finding at a line of the CI file.
func TestCIContainersAgreeWithCompose(t *testing.T) {
	for _, tc := range ciEquivalents {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "compose.yaml")
			if err := os.WriteFile(file, []byte(tc.compose), 0o644); err != nil {
				t.Fatal(err)
			}
			p, err := compose.Load(context.Background(), compose.Options{Files: []string{file}})
			if err != nil {
				t.Fatal(err)
			}
			want := byContainer(p.Audit(compose.AuditOptions{}))

			cmds, err := tc.find(tc.file, []byte(tc.src))
			if err != nil {
				t.Fatal(err)
			}
			var fs []finding.Finding
			for _, c := range cmds {
				spec, err := runline.Parse(c, runline.Options{})
				if err != nil {
					t.Fatal(err)
				}
				got := container.Check(spec, container.Options{Target: finding.Target{Kind: finding.SurfaceContainer, Name: tc.file}})
				for _, f := range got {
					if f.Location.Path != tc.file || f.Location.Line < 2 {
						t.Errorf("%s: %s is not at a line of %s: %+v", f.RuleID, f.Message, tc.file, f.Location)
					}
				}
				fs = append(fs, got...)
			}
			got := byContainer(fs)
			if len(got) != len(want) {
				t.Errorf("containers: CI %v, Compose %v", keys(got), keys(want))
			}
			for name, ids := range want {
				if !slices.Equal(got[name], ids) {
					t.Errorf("%s:\n  compose %v\n       CI %v", name, ids, got[name])
				}
			}
		})
	}
}

// TestCIContainerFindings: the settings the issue names are reported where
// they are written.
func TestCIContainerFindings(t *testing.T) {
	for _, tc := range []struct {
		idx      int
		rule     string
		line     int
		contains string
	}{
		{0, "DV3001", 8, "Container build runs privileged"},
		{0, "DV3040", 13, "6379"},
		{1, "DV3021", 3, "DOCKER_HOST=tcp://docker:2375"},
	} {
		eq := ciEquivalents[tc.idx]
		cmds, err := eq.find(eq.file, []byte(eq.src))
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, c := range cmds {
			spec, err := runline.Parse(c, runline.Options{})
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range container.Check(spec, container.Options{}) {
				if f.RuleID == tc.rule && f.Location.Line == tc.line && strings.Contains(f.Message, tc.contains) {
					found = true
				}
			}
		}
		if !found {
			t.Errorf("%s: no %s at line %d saying %q", eq.file, tc.rule, tc.line, tc.contains)
		}
	}
}

func byContainer(fs []finding.Finding) map[string][]string {
	out := map[string][]string{}
	for _, f := range fs {
		name := f.Location.Service
		if name == "" {
			name = f.Location.Container
		}
		out[name] = append(out[name], f.RuleID)
	}
	for k, v := range out {
		slices.Sort(v)
		out[k] = slices.Compact(v)
	}
	return out
}

func keys(m map[string][]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
