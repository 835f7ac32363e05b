package dockerfile

import (
	"path"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	bkshell "github.com/moby/buildkit/frontend/dockerfile/shell"

	"github.com/dockvet/dockvet/internal/eol"
	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/policy"
)

// imageUse is one place a Dockerfile pulls an image: a FROM of an external
// base, `COPY --from=<image>`, or `RUN --mount=from=<image>`.
type imageUse struct {
	in    *Instruction
	image policy.Image
}

// images lists every external image the file pulls. References with
// variables that have no default are left out: the image is only known at
// build time.
func images(f *File) []imageUse {
	var out []imageUse
	add := func(in *Instruction, ref string) {
		if ref == "" || strings.EqualFold(ref, "scratch") || strings.Contains(ref, "$") {
			return
		}
		if f.StageByName(ref) != nil {
			return
		}
		img, err := policy.ParseImage(ref)
		if err != nil {
			return
		}
		out = append(out, imageUse{in, img})
	}
	for _, st := range f.Stages {
		if st.BaseStage == nil {
			add(st.From, st.Base)
		}
		for _, in := range st.Instructions {
			switch c := in.Command.(type) {
			case *instructions.CopyCommand:
				add(in, c.From)
			case *instructions.RunCommand:
				for _, m := range in.Mounts() {
					add(in, m.From)
				}
			}
		}
	}
	return out
}

var ruleLatest = &Rule{
	Rule: finding.Rule{
		ID: "DV1010", Title: "Image without a tag or with :latest", Practice: finding.PracticeRegistry, Severity: finding.Medium,
		Peers: []string{"DL3006", "DL3007", "AVD-DS-0001"},
		Description: "An image referenced without a tag, or with `latest`, is whatever the registry serves on the day of the build: " +
			"builds are not reproducible, and a compromised or broken push reaches you silently.",
		Remediation: "Name a specific version tag, and pin the digest too: `FROM alpine:3.22@sha256:…`.",
		References:  []string{"https://docs.docker.com/build/building/best-practices/#pin-base-image-versions"},
	},
	Check: func(p *Pass) {
		for _, u := range images(p.File) {
			switch {
			case u.image.Digest != "", p.Policy.RequiresDigest(u.image): // DV1016 reports it
			case u.image.Tag == "":
				p.Report(u.in, "Image %s has no tag, so it means :latest.", u.image.Raw)
			case u.image.Tag == "latest":
				p.Report(u.in, "Image %s uses the mutable :latest tag.", u.image.Raw)
			}
		}
		// A FROM whose registry or repository comes from the build may
		// still be untagged whatever the build gives: ${REGISTRY}/ubuntu.
		for _, st := range p.File.Stages {
			if st.BaseStage != nil || st.Base != "" || !strings.Contains(st.BaseRaw, "$") {
				continue
			}
			ref := partialRef(p.File, st.BaseRaw)
			switch tagOf(ref) {
			case "":
				p.Report(st.From, "Image %s has no tag whatever the build gives, so it means :latest.", ref)
			case "latest":
				p.Report(st.From, "Image %s uses the mutable :latest tag.", ref)
			}
		}
	},
}

// partialRef substitutes the global ARG defaults into a FROM word and
// keeps the variables the build gives.
func partialRef(f *File, word string) string {
	lex := bkshell.NewLex(f.Escape)
	lex.SkipUnsetEnv = true
	out, _, err := lex.ProcessWord(word, envMap(f.GlobalArgs))
	if err != nil {
		return word
	}
	return out
}

// tagOf is the literal tag of a reference whose earlier parts may be
// variables: "" when the last path element has none, "?" when a variable
// decides it (or a digest pins it).
func tagOf(ref string) string {
	last := ref[strings.LastIndex(ref, "/")+1:]
	if strings.Contains(last, "@") {
		return "?"
	}
	i := strings.LastIndex(last, ":")
	if i < 0 {
		if strings.Contains(last, "$") {
			return "?"
		}
		return ""
	}
	if tag := last[i+1:]; !strings.Contains(tag, "$") && !strings.Contains(tag, "}") {
		return tag
	}
	return "?"
}

var ruleDigest = &Rule{
	Rule: finding.Rule{
		ID: "DV1011", Title: "Image tag not pinned by digest", Practice: finding.PracticeRegistry, Severity: finding.Low, CIS: "4.2",
		Description: "A tag can be moved to other content at any time. Only a digest names exactly the bytes that were reviewed and scanned.",
		Remediation: "Add the digest to the reference (`FROM python:3.13-slim@sha256:…`) and let a bot such as Renovate or Dependabot update it.",
		References:  []string{"https://docs.docker.com/build/building/best-practices/#pin-base-image-versions"},
	},
	Check: func(p *Pass) {
		for _, u := range images(p.File) {
			if u.image.Digest == "" && u.image.Tag != "" && u.image.Tag != "latest" && !p.Policy.RequiresDigest(u.image) {
				p.Report(u.in, "Image %s is pinned by tag only, not by digest.", u.image.Raw)
			}
		}
	},
}

var rulePolicyDigest = &Rule{
	Rule: finding.Rule{
		ID: "DV1016", Title: "Image not pinned by digest as the trust policy requires", Practice: finding.PracticeRegistry, Severity: finding.High, CIS: "4.2",
		Description: "A `trust:` rule of .dockvet.yaml says images from this registry or repository are used by digest only (`digests: required`), " +
			"and this reference names a tag: what the build pulls is whatever the tag points to that day, not the image that was reviewed, " +
			"scanned and signed. (DV1010 and DV1011 give way to this rule for images the policy covers.)",
		Remediation: "Pin the digest: `FROM registry.example.com/team/base:1.4@sha256:…` (`docker buildx imagetools inspect` shows it), and let " +
			"Renovate or Dependabot move it; or set `digests: optional` for this image's rule if tags are acceptable there.",
		References: []string{"https://docs.docker.com/build/building/best-practices/#pin-base-image-versions"},
	},
	Check: func(p *Pass) {
		for _, u := range images(p.File) {
			if !u.image.Pinned() && p.Policy.RequiresDigest(u.image) {
				p.Report(u.in, "Image %s is named by %s, but the trust policy requires a digest for %s.", u.image.Raw, tagWords(u.image), u.image.Repository)
			}
		}
	},
}

// tagWords says how an unpinned reference names its image.
func tagWords(img policy.Image) string {
	if img.Tag == "" {
		return "no tag at all (so :latest)"
	}
	return "the mutable tag :" + img.Tag
}

var ruleTrusted = &Rule{
	Rule: finding.Rule{
		ID: "DV1012", Title: "Image from a registry outside the trusted list", Practice: finding.PracticeRegistry, Severity: finding.High, CIS: "4.2",
		Peers: []string{"DL3026"},
		Description: "The project's .dockvet.yaml lists trusted registries, and this image comes from another one. " +
			"Images from unvetted registries may be tampered with or unmaintained. (Only checked when `trustedRegistries` is configured.)",
		Remediation: "Use an image from a trusted registry (mirror it into your private registry), or add the registry to `trustedRegistries` after review.",
		References:  []string{"https://docs.docker.com/docker-hub/repos/manage/trusted-content/"},
	},
	Check: func(p *Pass) {
		if !p.Policy.HasAllowList() {
			return
		}
		for _, u := range images(p.File) {
			if !p.Policy.Trusted(u.image) {
				p.Report(u.in, "Image %s comes from %s, which is not in trustedRegistries.", u.image.Raw, u.image.Domain)
			}
		}
	},
}

var ruleEOL = &Rule{
	Rule: finding.Rule{
		ID: "DV1013", Title: "Base image release is end of life", Practice: finding.PracticeUpdate, Severity: finding.High,
		Description: "The base image belongs to a distribution or language release that no longer gets security fixes. " +
			"Every vulnerability found after its end of life stays in the image for good.",
		Remediation: "Move to a supported release of the same image (for example `debian:bookworm-slim`, `python:3.13-slim`, `node:22-slim`, `alpine:3.22`).",
		References: []string{"https://endoflife.date/", "https://wiki.debian.org/LTS", "https://alpinelinux.org/releases/",
			"https://devguide.python.org/versions/", "https://nodejs.org/en/about/previous-releases", "https://go.dev/doc/devel/release"},
	},
	Check: func(p *Pass) {
		for _, st := range p.File.Stages {
			if st.BaseStage != nil || st.Base == "" {
				continue
			}
			img, err := policy.ParseImage(st.Base)
			if err != nil || img.Tag == "" {
				continue
			}
			if e, ok := eol.Lookup(path.Base(img.Path), img.Tag, p.Now); ok {
				p.Report(st.From, "%s is based on %s, which reached end of life on %s.", img.Raw, e.Name, e.Date)
			}
		}
	},
}

// slimVariant maps full official images to the variant a final stage should
// use instead.
var slimVariant = map[string]string{
	"debian": "debian:<release>-slim", "python": "python:<version>-slim", "node": "node:<version>-slim",
	"ruby": "ruby:<version>-slim", "buildpack-deps": "a -slim or distroless image", "perl": "perl:<version>-slim",
	"ubuntu": "a distroless or -slim image", "fedora": "a minimal or distroless image", "centos": "a minimal or distroless image",
}

var ruleFullBase = &Rule{
	Rule: finding.Rule{
		ID: "DV1014", Title: "Full distribution image as the final base", Practice: finding.PracticeSmallImage, Severity: finding.Low,
		Description: "The final stage is built on a full distribution image although a slim or distroless variant exists. " +
			"Every extra package is attack surface and vulnerability noise that the application does not need.",
		Remediation: "Use the -slim variant, alpine, or a distroless image for the final stage; build in a separate stage if tools are needed.",
		References:  []string{"https://docs.docker.com/build/building/best-practices/#choose-the-right-base-image"},
	},
	Check: func(p *Pass) {
		st := baseStage(p.File.Final())
		img, ok := officialImage(st)
		if !ok {
			return
		}
		name := path.Base(img.Path)
		alt, ok := slimVariant[name]
		if !ok || slimTag(img.Tag) {
			return
		}
		p.Report(st.From, "The final image is built on %s, a full distribution; use %s.", img.Raw, alt)
	},
}

// sdkImages are toolchain images meant for building, not running.
var sdkImages = map[string]string{
	"golang": "the Go toolchain", "rust": "the Rust toolchain", "maven": "Maven and a JDK", "gradle": "Gradle and a JDK",
	"gcc": "a C compiler", "buildpack-deps": "compilers and headers", "sdk": "the .NET SDK", "clojure": "a JDK and build tools",
	"haskell": "GHC", "swift": "the Swift toolchain", "elixir": "the Elixir toolchain", "crystallang/crystal": "the Crystal compiler",
}

var ruleSDKBase = &Rule{
	Rule: finding.Rule{
		ID: "DV1015", Title: "Build toolchain image as the final base", Practice: finding.PracticeSmallImage, Severity: finding.Medium,
		Description: "The final stage is a compiler/SDK image. Shipping a toolchain gives an attacker a compiler inside the container, " +
			"and adds hundreds of megabytes and packages with their own vulnerabilities.",
		Remediation: "Build in one stage and copy only the result into a runtime image: `FROM golang:1.26 AS build` … `FROM gcr.io/distroless/static` + `COPY --from=build`.",
		References:  []string{"https://docs.docker.com/build/building/multi-stage/"},
	},
	Check: func(p *Pass) {
		st := baseStage(p.File.Final())
		img, ok := imageOf(st)
		if !ok {
			return
		}
		name := path.Base(img.Path)
		what, sdk := sdkImages[name]
		if name == "sdk" && !strings.Contains(img.Repository, "dotnet") {
			sdk = false
		}
		if (name == "eclipse-temurin" || name == "openjdk" || name == "amazoncorretto") && strings.Contains(img.Tag, "jdk") {
			what, sdk = "a full JDK", true
		}
		// buildpack-deps:<release>-curl and -scm are the layers below the
		// compilers: a distribution with download and version-control tools.
		if name == "buildpack-deps" && (strings.HasSuffix(img.Tag, "-curl") || strings.HasSuffix(img.Tag, "-scm") || img.Tag == "curl" || img.Tag == "scm") {
			sdk = false
		}
		if sdk {
			p.Report(st.From, "The final image is built on %s, which ships %s.", img.Raw, what)
		}
	},
}

// baseStage follows FROM <stage> to the stage that names an external image.
func baseStage(s *Stage) *Stage {
	ch := s.Chain()
	return ch[len(ch)-1]
}

func imageOf(st *Stage) (policy.Image, bool) {
	if st.BaseStage != nil || st.Base == "" || strings.EqualFold(st.Base, "scratch") {
		return policy.Image{}, false
	}
	img, err := policy.ParseImage(st.Base)
	return img, err == nil
}

// officialImage returns the base image when it is a Docker Hub official
// image (library/…), whose variants we know.
func officialImage(st *Stage) (policy.Image, bool) {
	img, ok := imageOf(st)
	if !ok || img.Domain != "docker.io" || !strings.HasPrefix(img.Path, "library/") {
		return policy.Image{}, false
	}
	return img, true
}

func slimTag(tag string) bool {
	t := strings.ToLower(tag)
	for _, s := range []string{"slim", "alpine", "distroless", "minimal", "micro", "chiseled", "busybox", "musl"} {
		if strings.Contains(t, s) {
			return true
		}
	}
	return false
}
