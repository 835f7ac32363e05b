package live

import (
	"slices"
	"strings"
	"time"

	"github.com/moby/moby/api/types/image"

	"github.com/dockvet/dockvet/internal/container"
	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/rule"
)

// Rule is a check that needs the Engine's view of a container's image, not
// only the container spec.
type Rule = rule.Rule[*Pass]

// Pass is what an image rule sees: the container as fetched and its spec;
// the Reporter it embeds records the findings.
type Pass struct {
	rule.Reporter
	Container *Container
	Spec      *container.Spec
}

// report records a finding about the container.
func (p *Pass) report(format string, args ...any) {
	p.Emit(finding.Location{Container: p.Spec.Name}, format, args...)
}

// who is the container at the start of a message.
func (p *Pass) who() string { return "Container " + p.Container.label() }

// imageName is the image as the container was told to run it, or its
// short ID.
func (p *Pass) imageName() string {
	if p.Container.Inspect.Config != nil && p.Container.Inspect.Config.Image != "" {
		return p.Container.Inspect.Config.Image
	}
	return shortImageID(p.Container.Inspect.Image)
}

// surfaces are where the live rules apply: `dockvet container` and the
// host audit's running containers.
var surfaces = []finding.Surface{finding.SurfaceContainer, finding.SurfaceHost}

// rules are the live rules, sorted by ID; the container spec rules are
// container.Rules.
var rules = []*Rule{
	ruleImageUser,        // DV3100
	ruleImageHealthcheck, // DV3101
	ruleStaleImage,       // DV3102
}

// Rules returns the live rules, sorted by ID.
func Rules() []*Rule { return slices.Clone(rules) }

// Catalog returns the metadata of the live rules; the container spec rules
// are container.Catalog's.
func Catalog() []finding.Rule { return rule.Catalog(surfaces, rules) }

var ruleImageUser = &Rule{
	Rule: finding.Rule{
		ID: "DV3100", Title: "Image of a live container has no non-root USER", Practice: finding.PracticeNonRoot, Severity: finding.High, CIS: "4.1",
		Description: "A container runs as root because the image it was started from sets no USER, or USER root, and the container was given " +
			"no user of its own. The fix is in the image, which every other container started from it inherits. (A container given a " +
			"user is judged by DV3050 alone: root if that user is root, nothing if it is not.)",
		Remediation: "Create an unprivileged user in the Dockerfile and end it with `USER 10001` (a numeric UID, so the Engine and " +
			"orchestrators can check it is not root); rebuild and recreate the container. Until then, start it with `--user 10001`.",
		References: []string{"https://docs.docker.com/build/building/best-practices/#user"},
	},
	Check: func(p *Pass) {
		img := p.Container.Image
		if img == nil || !p.Spec.UserFromImage {
			return
		}
		user := ""
		if img.Config != nil {
			user = strings.TrimSpace(img.Config.User)
		}
		if user != "" && !container.IsRootUser(user) {
			return
		}
		what := "sets no USER"
		if user != "" {
			what = "sets USER " + user
		}
		p.report("%s runs image %s, which %s, so the container runs as root.", p.who(), p.imageName(), what)
	},
}

var ruleImageHealthcheck = &Rule{
	Rule: finding.Rule{
		ID: "DV3101", Title: "Image of a live container has no HEALTHCHECK", Practice: finding.PracticeHygiene, Severity: finding.Low, CIS: "4.6",
		Description: "Neither the image a container was started from nor the container defines a health check. The Engine then reports " +
			"the container as running whatever state its process is in: a hung or half-broken service is neither noticed nor restarted.",
		Remediation: "Add `HEALTHCHECK CMD …` to the Dockerfile with a command that proves the service answers (or `--health-cmd` / " +
			"Compose `healthcheck:` where the container is started).",
		References: []string{"https://docs.docker.com/reference/dockerfile/#healthcheck"},
	},
	Check: func(p *Pass) {
		if p.Container.Image == nil || imageHasHealthcheck(p.Container.Image) {
			return
		}
		if h := p.Spec.Healthcheck; h.Set && !h.Value.Disabled {
			return // the container checks itself, which is what the image's HEALTHCHECK is for
		}
		p.report("%s runs image %s, which defines no HEALTHCHECK, and the container sets none, so nothing checks that it works.",
			p.who(), p.imageName())
	},
}

func imageHasHealthcheck(img *image.InspectResponse) bool {
	if img.Config == nil || img.Config.Healthcheck == nil || len(img.Config.Healthcheck.Test) == 0 {
		return false
	}
	return !strings.EqualFold(img.Config.Healthcheck.Test[0], "NONE")
}

var ruleStaleImage = &Rule{
	Rule: finding.Rule{
		ID: "DV3102", Title: "Container runs an image its tag no longer names", Practice: finding.PracticeUpdate, Severity: finding.Info, CIS: "5.28",
		Description: "The container was created from a tag that now names another local image — a newer pull or build — but a container " +
			"keeps the image it was created from: the fixes in the new image do not reach it until it is recreated.",
		Remediation: "Recreate the container from the current image (`docker compose up -d`, or remove it and `docker run` again), then " +
			"remove the old image.",
		References: []string{"https://docs.docker.com/reference/cli/docker/image/pull/"},
	},
	Check: func(p *Pass) {
		tagged, running := p.Container.Tagged, p.Container.Inspect.Image
		if tagged == nil || running == "" || tagged.ID == "" || tagged.ID == running {
			return
		}
		was := ""
		if p.Container.Image != nil {
			was = created(p.Container.Image.Created)
		}
		p.report("%s runs image %s%s, but %s now names image %s%s; recreate the container to run it.",
			p.who(), shortImageID(running), was, p.imageName(), shortImageID(tagged.ID), created(tagged.Created))
	},
}

// created is " (created 2024-05-01)", or "" when the date is unknown.
func created(ts string) string {
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil || t.IsZero() || t.Year() < 1971 {
		return ""
	}
	return " (created " + t.UTC().Format("2006-01-02") + ")"
}

func shortImageID(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		id = id[:12]
	}
	return id
}
