package runline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockvet/dockvet/internal/container"
	"github.com/dockvet/dockvet/internal/fuzztest"
)

// FuzzParse feeds arbitrary scripts to the finder and every command it
// finds to the parser: no panic, no hang, errors on one line, and every
// position inside the script.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/repo/*")
	for _, s := range seeds {
		if data, err := os.ReadFile(s); err == nil {
			f.Add(string(data))
		}
	}
	for _, s := range []string{
		"docker run -itd -p8080:80 -v /:/host:ro,rshared --mount type=bind,src=/,dst=/h nginx",
		"docker run -e=A=b -- img cmd --privileged",
		"docker run \\\n --cap-add SYS_ADMIN \\\n alpine",
		`sudo -E sh -c 'podman run --pod x --userns=keep-id -v C:\data:C:\data img'`,
		"docker -H tcp://h:2375 container create --ulimit nofile=-1 --restart on-failure:3 img",
		"docker run --mount 'type=volume,src=v,dst=/d,volume-opt=o=bind,volume-opt=device=/var/run'",
		"docker run -p [::]:22:22 -p 127.0.0.1::5432 --device /dev/sda:/dev/xvda:rwm img",
		"docker run --security-opt label:disable --security-opt seccomp=unconfined img",
		"docker run $OPTS ${MORE} \"$@\" img",
		"docker run -",
		"docker run --",
		"docker",
		"run:\n\t@$(DOCKER) run -v $$HOME/.ssh:/root/.ssh \\\n\t  img\n",
		"jobs:\n  a:\n    steps:\n      - run: |\n          docker run -e T=${{ secrets.T }} img\n",
		"test:\n  script:\n    - docker run --privileged img\n    - [nested, list]\n",
		"jobs:\n  b:\n    container:\n      image: node:18\n      options: --privileged --cpus ${{ matrix.c }}\n    services:\n      r: {image: redis, ports: [6379:6379], env: {A: b}, volumes: [/:/h]}\n",
		"variables: {DOCKER_HOST: tcp://docker:2375, X: {value: y}}\nj:\n  image: {name: a}\n  services: [docker:dind, {name: b, alias: c, variables: {D: e}}]\n",
		"jobs: &a\n  x: *a\n",
	} {
		f.Add(s)
	}
	fuzztest.Minimize(f)
	f.Fuzz(func(t *testing.T, script string) {
		defer fuzztest.Budget(t)()
		if len(script) > 1<<14 {
			return
		}
		cmds, err := FromShell("fuzz.sh", []byte(script))
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is not one line: %q", err)
			}
			return
		}
		lines := strings.Count(script, "\n") + 1
		for _, c := range cmds {
			check(t, c, lines)
		}
		// The same words as one command line.
		check(t, Command{Args: append([]string{"docker", "run"}, strings.Fields(script)...)}, lines)
		// The same text as a Makefile, CI files and an env file.
		for _, find := range []func(string, []byte) ([]Command, error){FromMakefile, FromGitHubWorkflow, FromGitLabCI, GitHubContainers, GitLabContainers} {
			cmds, err := find("fuzz", []byte(script))
			if err != nil {
				if strings.Contains(err.Error(), "\n") {
					t.Fatalf("error is not one line: %q", err)
				}
				continue
			}
			for _, c := range cmds {
				check(t, c, lines)
			}
		}
		ParseEnvFile([]byte(script))
	})
}

func check(t *testing.T, c Command, lines int) {
	spec, err := Parse(c, Options{})
	if err != nil {
		if strings.Contains(err.Error(), "\n") {
			t.Fatalf("error is not one line: %q", err)
		}
		return
	}
	if spec == nil {
		return
	}
	for _, l := range c.Lines {
		if l < 1 || l > lines {
			t.Fatalf("argument line %d outside the script's %d lines", l, lines)
		}
	}
	container.Check(spec, container.Options{})
}
