//go:build linux

package hostile

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"

	"github.com/dockvet/dockvet/internal/secrets/sample"
)

// token is a fabricated GitHub token (valid checksum, grants nothing)
// the row 11 and 12 cases plant.
func token() string { return sample.GitHubToken(19) }

// registryAuth is a Docker config.json "auth" value: base64 of
// user:token, itself a secret.
func registryAuth() string { return base64.StdEncoding.EncodeToString([]byte("hostile:" + token())) }

// Sizes of the hostile inputs: the figures, so a "before" run
// shows the blow-up the issue measured.
const (
	pemSmall        = 1 << 20 // row 1: 1 MiB of PEM headers
	pemLarge        = 8 << 20 // row 1: the larger variant
	evalDepth       = 19      // row 2: nested eval "$(…)" (about 200 bytes)
	pipeStages      = 20000   // row 3
	substLevels     = 1000000 // row 3: $( nested this deep (3 MB)
	andCommands     = 400000  // row 3: commands of one && list (3 MB)
	argLevels       = 30      // row 4: each ARG doubles the previous one
	envLevels       = 24      // row 5: each .env variable doubles the previous one
	envLevelsDeep   = 40      // row 5: the 40-level variant
	indexBreadth    = 30      // row 7: each index lists the next 30 times
	indexDepth      = 4       // row 7: dockvet's depth limit (maxIndexDepth)
	dpkgLines       = 200000  // row 8: continuation lines of one dpkg stanza
	jarCopies       = 100     // row 8: each nesting level lists its inner jar this many times
	distinctSecrets = 300000  // row 8
	longEntries     = 150000  // row 8: tar entries …
	longNameBytes   = 3900    // … with names this long
	layerRepeats    = 80      // row 9: one layer listed this many times
	bigLayerBytes   = 128 << 20
)

// continued breaks text into physical lines of 16 KiB joined by
// continuations: BuildKit refuses a line over 64 KiB, not a logical line.
// The cases repeat units of 2 or 8 bytes, so no unit is cut.
func continued(text string) string {
	var b strings.Builder
	for len(text) > 16<<10 {
		b.WriteString(text[:16<<10])
		b.WriteString(" \\\n")
		text = text[16<<10:]
	}
	b.WriteString(text)
	return b.String()
}

// formats row 11 runs in: every report format a person reads, cheaply.
var leakFormats = []string{"table", "json", "junit", "html"}

func entries() []entry {
	var es []entry
	add := func(c Case, g gen) { es = append(es, entry{c, g}) }
	dockerfile := func(body string) gen { return writeFiles(map[string]string{"Dockerfile": body}) }

	// --- twins: trivial inputs of each kind -------------------------------
	add(Case{Name: "t-dockerfile", What: "a short ordinary Dockerfile", Args: args("dockerfile", "Dockerfile"), Expect: Ordinary},
		dockerfile("FROM alpine:3.20\nRUN apk add --no-cache curl && sh -c \"echo ok\" | cat\nUSER 1000\n"))
	add(Case{Name: "t-scan", What: "a small repository", Args: args("scan", "repo"), Expect: Ordinary},
		writeFiles(map[string]string{
			"repo/Dockerfile":   "FROM alpine:3.20\nUSER 1000\n",
			"repo/deploy.sh":    "#!/bin/sh\neval \"$(echo docker run --rm alpine:3.20 true)\"\n",
			"repo/compose.yaml": "services:\n  app:\n    image: alpine:3.20\n    environment:\n      - MODE=${MODE}\n",
			"repo/.env":         "MODE=prod\n",
		}))
	add(Case{Name: "t-compose", What: "a small Compose project with a .env file", Args: args("compose", "compose.yaml"), Expect: Ordinary},
		writeFiles(map[string]string{
			"compose.yaml": "services:\n  app:\n    image: alpine:3.20\n    env_file: app.env\n    environment:\n      - X=${V1}\n",
			".env":         "V0=abcdefgh\nV1=${V0}${V0}\n",
			"app.env":      "LOG_LEVEL=info\n",
		}))
	add(Case{Name: "t-image-text", What: "an image of one small text file", Args: imageArgs("oci:image"), Expect: Ordinary},
		image(file{"app/notes.txt", []byte(strings.Repeat("an ordinary line of text\n", 40))}))
	add(Case{Name: "t-image-many", What: fmt.Sprintf("an image of %d empty files with short names", longEntries), Args: imageArgs("oci:image"), Expect: Ordinary},
		manyNamesImage)
	add(Case{Name: "t-image-dpkg", What: "an image with a small dpkg status", Args: imageArgs("oci:image"), Expect: Ordinary},
		image(osRelease, file{"var/lib/dpkg/status", []byte(dpkgStatus(3))}))
	add(Case{Name: "t-image-jar", What: "an image with a jar holding one nested jar", Args: imageArgs("oci:image"), Expect: Ordinary},
		image(file{"app/app.jar", nestedJar(1)}))
	add(Case{Name: "t-image-secrets", What: "an image with a file of three AWS key IDs", Args: imageArgs("oci:image"), Expect: Ordinary},
		image(file{"app/keys.txt", awsKeyIDs(3)}))
	add(Case{Name: "t-image-layer-x1", What: "an image of one 128 MiB compressible layer, listed once", Args: imageArgs("oci:image"), Expect: Ordinary},
		bigLayerImage(1))
	add(Case{Name: "t-registry", What: "a loopback registry serving a small image", Args: netArgs("image", "registry:{{registry}}/hostile/small:1", "--no-cache"), Server: "registry", Expect: Ordinary},
		func(string) error { return nil })
	add(Case{Name: "t-scan-nobody", What: "the row 12 repository, all readable, run as nobody", Args: args("scan", "repo", "--format", "json"), AsNobody: true, Expect: Ordinary},
		unreadableRepo(false))
	add(Case{Name: "t-dockerfile-nobody", What: "the row 12 build context, all readable, run as nobody", Args: args("dockerfile", "ctx/Dockerfile", "--format", "json"), AsNobody: true, Expect: Ordinary},
		unreadableContext(false))

	// --- row 1: keyword density -------------------------------------------
	add(Case{Name: "01a-pem-headers-1mib", Row: 1, What: "1 MiB of repeated RSA PEM headers in an image", Args: imageArgs("oci:image"), Twin: "t-image-text"},
		later(func() gen { return image(file{"app/keys.txt", pemHeaders(pemSmall)}) }))
	add(Case{Name: "01b-pem-headers-8mib", Row: 1, What: "8 MiB of repeated RSA PEM headers in an image", Args: imageArgs("oci:image"), Twin: "t-image-text"},
		later(func() gen { return image(file{"app/keys.txt", pemHeaders(pemLarge)}) }))

	// --- row 2: nested eval -------------------------------------------------
	add(Case{Name: "02a-eval-nest-dockerfile", Row: 2, What: fmt.Sprintf("a RUN of eval \"$(…)\" nested %d deep", evalDepth), Args: args("dockerfile", "Dockerfile"), Twin: "t-dockerfile"},
		later(func() gen { return dockerfile("FROM alpine:3.20\nRUN " + nestEval(evalDepth, "echo x") + "\n") }))
	add(Case{Name: "02b-eval-nest-script", Row: 2, What: fmt.Sprintf("a deploy.sh of eval \"$(…)\" nested %d deep, under scan", evalDepth), Args: args("scan", "repo"), Twin: "t-scan"},
		later(func() gen {
			return writeFiles(map[string]string{"repo/deploy.sh": "#!/bin/sh\n" + nestEval(evalDepth, "docker run --rm alpine:3.20 true") + "\n"})
		}))

	// --- row 3: sh -c pipeline ---------------------------------------------
	add(Case{Name: "03-sh-c-pipeline", Row: 3, What: fmt.Sprintf("a RUN of %d piped sh -c \"cat\" stages over continuation lines", pipeStages), Args: args("dockerfile", "Dockerfile"), Twin: "t-dockerfile"},
		later(func() gen {
			return dockerfile("FROM alpine:3.20\nRUN echo x \\\n" + strings.Repeat(" | sh -c \"cat\" \\\n", pipeStages) + " | cat\n")
		}))
	add(Case{Name: "03b-nested-substitutions", Row: 3, What: fmt.Sprintf("a RUN of $(…) nested %d deep over continuation lines", substLevels), Args: args("dockerfile", "Dockerfile"), Twin: "t-dockerfile"},
		later(func() gen {
			return dockerfile("FROM alpine:3.20\nRUN echo " + continued(strings.Repeat("$(", substLevels)+"x"+strings.Repeat(")", substLevels)) + "\n")
		}))
	add(Case{Name: "03c-and-chain", Row: 3, What: fmt.Sprintf("a RUN of %d commands joined by && over continuation lines", andCommands), Args: args("dockerfile", "Dockerfile"), Twin: "t-dockerfile"},
		later(func() gen {
			return dockerfile("FROM alpine:3.20\nRUN " + continued(strings.Repeat("true && ", andCommands-1)+"true") + "\n")
		}))

	// --- row 4: ARG chain ----------------------------------------------------
	add(Case{Name: "04-arg-chain", Row: 4, What: fmt.Sprintf("%d ARGs, each the previous one twice", argLevels), Args: args("dockerfile", "Dockerfile"), Twin: "t-dockerfile"},
		later(func() gen {
			return dockerfile("FROM alpine:3.20\nARG A0=abcdefgh\n" + doubling("ARG A", argLevels) + fmt.Sprintf("RUN echo $A%d\n", argLevels))
		}))

	// --- row 5: .env chain ---------------------------------------------------
	for _, n := range []int{envLevels, envLevelsDeep} {
		add(Case{Name: fmt.Sprintf("05%s-env-chain-%d", map[int]string{envLevels: "a", envLevelsDeep: "b"}[n], n), Row: 5,
			What: fmt.Sprintf("a Compose .env of %d variables, each ${V}${V} of the previous", n), Args: args("compose", "compose.yaml"), Twin: "t-compose"},
			later(func() gen {
				return writeFiles(map[string]string{
					"compose.yaml": fmt.Sprintf("services:\n  app:\n    image: alpine:3.20\n    environment:\n      - X=${V%d}\n", n),
					".env":         "V0=abcdefgh\n" + doubling("V", n),
				})
			}))
	}

	// --- row 6: .env -> /dev/zero ---------------------------------------------
	add(Case{Name: "06-env-dev-zero", Row: 6, What: "a repository .env that is a symlink to /dev/zero, under scan", Args: args("scan", "repo"), Twin: "t-scan"},
		func(dir string) error {
			if err := write(dir, map[string]string{"repo/compose.yaml": "services:\n  app:\n    image: alpine:3.20\n    environment:\n      - MODE=${MODE}\n"}); err != nil {
				return err
			}
			return os.Symlink("/dev/zero", filepath.Join(dir, "repo", ".env"))
		})

	// --- row 7: OCI index breadth ---------------------------------------------
	add(Case{Name: "07-oci-index-breadth", Row: 7, What: fmt.Sprintf("an OCI layout whose %d nested indexes each list the next %d times", indexDepth, indexBreadth), Args: imageArgs("oci:image"), Twin: "t-image-text"},
		indexBreadthLayout)

	// --- row 8: dpkg, jars, many secrets, long names --------------------------
	add(Case{Name: "08a-dpkg-continuations", Row: 8, What: fmt.Sprintf("a dpkg status with %d continuation lines", dpkgLines), Args: imageArgs("oci:image"), Twin: "t-image-dpkg"},
		later(func() gen { return image(osRelease, file{"var/lib/dpkg/status", []byte(dpkgContinuations(dpkgLines))}) }))
	add(Case{Name: "08b-nested-jars", Row: 8, What: fmt.Sprintf("a jar whose three nesting levels each list their inner jar %d times", jarCopies), Args: imageArgs("oci:image"), Twin: "t-image-jar"},
		later(func() gen { return image(file{"app/app.jar", nestedJar(jarCopies)}) }))
	add(Case{Name: "08c-distinct-secrets", Row: 8, What: fmt.Sprintf("%d distinct AWS key IDs in one file", distinctSecrets), Args: imageArgs("oci:image"), Twin: "t-image-secrets"},
		later(func() gen { return image(file{"app/keys.txt", awsKeyIDs(distinctSecrets)}) }))
	add(Case{Name: "08d-long-names", Row: 8, What: fmt.Sprintf("%d entries with %d-byte names", longEntries, longNameBytes), Args: imageArgs("oci:image"), Twin: "t-image-many", Ratio: 6},
		longNamesImage)

	// --- row 9: one layer listed many times -----------------------------------
	add(Case{Name: "09-layer-x80", Row: 9, What: fmt.Sprintf("one 128 MiB compressible layer listed %d times in the manifest", layerRepeats), Args: imageArgs("oci:image"), Twin: "t-image-layer-x1"},
		bigLayerImage(layerRepeats))

	// --- row 10: a registry redirecting to itself -----------------------------
	add(Case{Name: "10-registry-redirect-loop", Row: 10, What: "a registry whose manifest URL redirects to itself", Args: netArgs("image", "registry:{{registry}}/hostile/loop:1", "--no-cache"), Server: "redirect-loop",
		Expect: Refused, Refusal: regexp.MustCompile(`(?i)redirect`), Twin: "t-registry"},
		func(string) error { return nil })

	// --- row 11: secrets in parser errors -------------------------------------
	leaks := []struct {
		name, what string
		args       []string
		twin       string
		gen        gen
	}{
		{"11a-env-unterminated", "a Compose .env line with an unterminated quote around a token", []string{"compose", "compose.yaml"}, "t-compose",
			writeFiles(map[string]string{
				"compose.yaml": "services:\n  app:\n    image: alpine:3.20\n",
				".env":         "APP=1\nGITHUB_TOKEN=\"" + token() + "\n",
			})},
		{"11b-env-file-docker-config", "Compose env_file: naming a Docker config.json outside the project", []string{"compose", "project/compose.yaml"}, "t-compose",
			writeFiles(map[string]string{
				"project/compose.yaml":        "services:\n  app:\n    image: alpine:3.20\n    env_file: ../outside/.docker/config.json\n",
				"outside/.docker/config.json": `{"auths":{"ghcr.io":{"auth":"` + registryAuth() + `"}}}` + "\n",
			})},
		{"11c-include-shadow", "Compose include: of a shadow-like file outside the project (by absolute path)", []string{"compose", "project/compose.yaml"}, "t-compose",
			func(dir string) error {
				return write(dir, map[string]string{
					"project/compose.yaml": "include:\n  - " + filepath.Join(dir, "outside", "shadow") + "\nservices:\n  app:\n    image: alpine:3.20\n",
					"outside/shadow":       "root:$6$hostileFAKE$" + token() + ":19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n",
				})
			}},
		{"11d-dockerfile-token", "a stray TOKEN=… line in a Dockerfile", []string{"dockerfile", "Dockerfile"}, "t-dockerfile",
			dockerfile("FROM alpine:3.20\nTOKEN=" + token() + "\nRUN true\n")},
		{"11e-env-file-git-credentials", "Compose env_file: naming a .git-credentials file outside the project", []string{"compose", "project/compose.yaml"}, "t-compose",
			writeFiles(map[string]string{
				"project/compose.yaml":     "services:\n  app:\n    image: alpine:3.20\n    env_file: ../outside/.git-credentials\n",
				"outside/.git-credentials": "https://hostile:" + token() + "@github.com\n",
			})},
	}
	for _, l := range leaks {
		for _, f := range leakFormats {
			add(Case{Name: l.name + "." + f, Row: 11, What: l.what + ", --format " + f, Args: args(append(l.args, "--format", f)...), Twin: l.twin,
				Expect: Handled, Refusal: anyLine, Secrets: []string{token(), registryAuth()}}, l.gen)
		}
	}

	// --- row 12: unreadable input, non-root -----------------------------------
	add(Case{Name: "12a-unreadable-dir", Row: 12, What: "scan, as nobody, of a repository with an unreadable directory", Args: args("scan", "repo", "--format", "json"), AsNobody: true,
		Expect: Incomplete, Twin: "t-scan-nobody", Secrets: []string{token()}}, unreadableRepo(true))
	add(Case{Name: "12b-unreadable-context-file", Row: 12, What: "dockerfile, as nobody, whose build context holds an unreadable file", Args: args("dockerfile", "ctx/Dockerfile", "--format", "json"), AsNobody: true,
		Expect: Incomplete, Twin: "t-dockerfile-nobody", Secrets: []string{token()}}, unreadableContext(true))

	// --- row 13: FIFOs ---------------------------------------------------------
	fifo := func(files map[string]string, fifos ...string) gen {
		return func(dir string) error {
			if err := write(dir, files); err != nil {
				return err
			}
			for _, f := range fifos {
				if err := syscall.Mkfifo(filepath.Join(dir, f), 0o644); err != nil {
					return err
				}
			}
			return nil
		}
	}
	add(Case{Name: "13a-fifo-dockerignore", Row: 13, What: "a FIFO as the build context's .dockerignore", Args: args("dockerfile", "ctx/Dockerfile"), Expect: Refused, Refusal: notRegular, Twin: "t-dockerfile"},
		fifo(map[string]string{"ctx/Dockerfile": "FROM alpine:3.20\nCOPY . /app\nUSER 1000\n"}, "ctx/.dockerignore"))
	add(Case{Name: "13b-fifo-dockvet-yaml", Row: 13, What: "a FIFO as .dockvet.yaml in the working directory", Args: args("dockerfile", "Dockerfile"), Expect: Refused, Refusal: notRegular, Twin: "t-dockerfile"},
		fifo(map[string]string{"Dockerfile": "FROM alpine:3.20\nUSER 1000\n"}, ".dockvet.yaml"))
	add(Case{Name: "13c-fifo-oci-index", Row: 13, What: "a FIFO as an OCI layout's index.json", Args: imageArgs("oci:image"), Expect: Refused, Refusal: notRegular, Twin: "t-image-text"},
		func(dir string) error {
			if err := image(file{"app/notes.txt", []byte("ordinary\n")})(dir); err != nil {
				return err
			}
			p := filepath.Join(dir, "image", "index.json")
			if err := os.Remove(p); err != nil {
				return err
			}
			return syscall.Mkfifo(p, 0o644)
		})
	add(Case{Name: "13d-fifo-compose-env", Row: 13, What: "a FIFO as the Compose project's .env", Args: args("compose", "compose.yaml"), Expect: Refused, Refusal: notRegular, Twin: "t-compose"},
		fifo(map[string]string{"compose.yaml": "services:\n  app:\n    image: alpine:3.20\n"}, ".env"))
	add(Case{Name: "13e-fifo-env-file", Row: 13, What: "a FIFO as a Compose service's env_file", Args: args("compose", "compose.yaml"), Expect: Refused, Refusal: notRegular, Twin: "t-compose"},
		fifo(map[string]string{"compose.yaml": "services:\n  app:\n    image: alpine:3.20\n    env_file: app.env\n"}, "app.env"))
	return es
}

// later builds a case's contents only when the case is written. Cases
// lists the corpus in the runner, and the runner is to stay small: under
// the race detector the megabytes of the large cases, built and dropped,
// left it at 113 MiB instead of 25, and each dockvet child inherits the
// runner's resident memory into its own peak (lowerHiwater).
func later(build func() gen) gen {
	return func(dir string) error { return build()(dir) }
}

// anyLine accepts any one-line refusal (row 11 only checks what is printed).
var anyLine = regexp.MustCompile(`.`)

// image writes a one-layer OCI layout at dir/image.
func image(files ...file) gen {
	return func(dir string) error {
		l, err := filesLayer(files...)
		if err != nil {
			return err
		}
		return writeImage(filepath.Join(dir, "image"), l)
	}
}

func pemHeaders(n int) []byte {
	const h = "-----BEGIN RSA PRIVATE KEY-----\n"
	return bytes.Repeat([]byte(h), n/len(h))
}

// nestEval nests inner in depth levels of eval "$(…)": each level is a
// command substitution whose output eval runs again.
func nestEval(depth int, inner string) string {
	s := inner
	for range depth {
		s = `eval "$(` + s + `)"`
	}
	return s
}

// doubling writes lines prefixN=${prefixN-1}${prefixN-1} for N = 1..n.
func doubling(prefix string, n int) string {
	name := prefix
	if i := strings.LastIndexByte(prefix, ' '); i >= 0 {
		name = prefix[i+1:]
	}
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "%s%d=${%s%d}${%s%d}\n", prefix, i, name, i-1, name, i-1)
	}
	return b.String()
}

func dpkgStatus(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "Package: pkg%d\nStatus: install ok installed\nPriority: optional\nArchitecture: amd64\nVersion: 1.%d-1\nDescription: package %d\n an ordinary description\n\n", i, i, i)
	}
	return b.String()
}

func dpkgContinuations(lines int) string {
	return "Package: hostile\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.0-1\nDescription: hostile\n" +
		strings.Repeat(" a continuation line\n", lines) + "\n"
}

func pom(artifact string) []byte {
	return []byte("groupId=org.example.hostile\nartifactId=" + artifact + "\nversion=1.0.0\n")
}

// nestedJar is a jar of three nesting levels, each listing its inner jar
// copies times (overlapping entries: the bytes are stored once).
func nestedJar(copies int) []byte {
	inner := overlappingZip([]zipEntry{{"META-INF/maven/org.example.hostile/leaf/pom.properties", pom("leaf")}}, "", 0)
	for level := 2; level >= 0; level-- {
		a := fmt.Sprintf("level%d", level)
		inner = overlappingZip([]zipEntry{
			{"META-INF/maven/org.example.hostile/" + a + "/pom.properties", pom(a)},
			{"lib/inner.jar", inner},
		}, "lib/inner.jar", copies-1)
	}
	return inner
}

// awsKeyIDs writes n distinct fabricated AWS access key IDs, one a line,
// from a fixed source: the corpus is the same at every generation.
func awsKeyIDs(n int) []byte { return sample.AWSKeyIDs(n, rand.New(rand.NewPCG(19, 300000))) }

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// bigLayerImage writes an image whose manifest lists one 128 MiB layer
// of zeros (128 KiB compressed) n times.
func bigLayerImage(n int) gen {
	return func(dir string) error {
		lw := newLayer()
		if err := lw.dir("app"); err != nil {
			return err
		}
		if err := lw.stream("app/zeros.bin", bigLayerBytes, io.Reader(zeroReader{})); err != nil {
			return err
		}
		l, err := lw.close()
		if err != nil {
			return err
		}
		ls := make([]layer, n)
		for i := range ls {
			ls[i] = l
		}
		return writeImage(filepath.Join(dir, "image"), ls...)
	}
}

// indexBreadthLayout writes index.json listing index A1 30 times, A1
// listing A2 30 times, … down to the depth limit, the last listing the
// one image manifest 30 times: 40 KB that name 30^5 manifests.
func indexBreadthLayout(dir string) error {
	l, err := newLayout(filepath.Join(dir, "image"))
	if err != nil {
		return err
	}
	ly, err := filesLayer(file{"app/notes.txt", []byte("ordinary\n")})
	if err != nil {
		return err
	}
	d, err := l.image([]layer{ly})
	if err != nil {
		return err
	}
	for range indexDepth {
		list := make([]descriptor, indexBreadth)
		for i := range list {
			list[i] = d
		}
		if d, err = l.index(list); err != nil {
			return err
		}
	}
	list := make([]descriptor, indexBreadth)
	for i := range list {
		list[i] = d
	}
	return l.writeIndexJSON(list)
}

// longNamesImage writes one layer of 150,000 empty files whose names are
// 3.9 KB long (path components of 250 bytes; the names differ at the end).
func longNamesImage(dir string) error {
	lw := newLayer()
	comp := strings.Repeat("d", 250)
	prefix := strings.Repeat(comp+"/", (longNameBytes-20)/251)
	for i := range longEntries {
		name := fmt.Sprintf("%sf%0*d", prefix, longNameBytes-len(prefix)-1, i)
		if err := lw.file(name, nil); err != nil {
			return err
		}
	}
	l, err := lw.close()
	if err != nil {
		return err
	}
	return writeImage(filepath.Join(dir, "image"), l)
}

// manyNamesImage is longNamesImage's twin: as many entries, with names of
// an ordinary length, so the ratio measures what long names cost and not
// what reading 150,000 tar headers costs (more than the 2 s floor alone).
func manyNamesImage(dir string) error {
	lw := newLayer()
	for i := range longEntries {
		if err := lw.file(fmt.Sprintf("app/data/f%06d", i), nil); err != nil {
			return err
		}
	}
	l, err := lw.close()
	if err != nil {
		return err
	}
	return writeImage(filepath.Join(dir, "image"), l)
}

// unreadableRepo writes a repository whose private/ directory holds a
// Dockerfile with a token; hostile makes the directory mode 000, which
// root reads anyway and nobody cannot.
func unreadableRepo(hostile bool) gen {
	return func(dir string) error {
		if err := write(dir, map[string]string{
			"repo/Dockerfile":         "FROM alpine:3.20\nUSER 1000\n",
			"repo/private/Dockerfile": "FROM alpine:3.20\nENV GITHUB_TOKEN=" + token() + "\nUSER 1000\n",
		}); err != nil {
			return err
		}
		if hostile {
			return os.Chmod(filepath.Join(dir, "repo", "private"), 0)
		}
		return nil
	}
}

// unreadableContext writes a build context that copies everything,
// including a .env holding a token; hostile makes the .env mode 000.
func unreadableContext(hostile bool) gen {
	return func(dir string) error {
		if err := write(dir, map[string]string{
			"ctx/Dockerfile": "FROM alpine:3.20\nCOPY . /app\nUSER 1000\n",
			"ctx/.env":       "GITHUB_TOKEN=" + token() + "\n",
		}); err != nil {
			return err
		}
		if hostile {
			return os.Chmod(filepath.Join(dir, "ctx", ".env"), 0)
		}
		return nil
	}
}
