package authz

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	containertypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/dockvet/dockvet/internal/config"
	"github.com/dockvet/dockvet/internal/container"
	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/live"
	"github.com/dockvet/dockvet/internal/policy"
	"github.com/dockvet/dockvet/internal/sign"
	"github.com/dockvet/dockvet/internal/watch"
)

// Verifier checks the signatures the trust policy requires of an image
// (sign.Checker, which caches results by digest and signers).
type Verifier interface {
	Check(ctx context.Context, s sign.Subject) ([]finding.Finding, error)
}

// Engine answers the questions a request leaves open: whose container an
// exec or an update is about (its user, image and labels), and which
// registry digests an image has (for its signature). *client.Client is
// one. The Engine asks the plugin about these calls too; they are GETs,
// answered at once.
type Engine interface {
	ContainerInspect(ctx context.Context, id string, options client.ContainerInspectOptions) (client.ContainerInspectResult, error)
	ImageInspect(ctx context.Context, id string, options ...client.ImageInspectOption) (client.ImageInspectResult, error)
}

// Policy is one loaded configuration, swapped whole on reload.
type Policy struct {
	Config *config.Config
	// Ignores are the entries of .dockvetignore.
	Ignores []config.Ignore
	// Verifier checks signatures; nil leaves them unchecked (the scanners
	// check them only with --verify too).
	Verifier Verifier
	// Source names where the policy was read, for messages.
	Source string

	filter *config.Filter
}

// Options configure a Decider.
type Options struct {
	// Load reads the policy: at start and on every Reload.
	Load func() (*Policy, error)
	// Engine, when set, is asked about the container of an exec or an
	// update and about an image's registry digests.
	Engine Engine
	// FailOpen allows requests while no policy is loaded (only for audit
	// roll-outs: the default fails closed). A loaded policy says itself
	// (enforce.onFailure).
	FailOpen bool
	// LogReads logs allowed GET and HEAD requests too.
	LogReads bool
	// Log receives every decision that is logged.
	Log func(*Decision)
	// Notice receives one line for a person (reloads).
	Notice  func(format string, args ...any)
	Metrics *Metrics
	Now     func() time.Time
}

// Decider makes the decisions. It is safe for concurrent use; Reload
// swaps the policy atomically, so a decision sees either the old policy or
// the new one, whole.
type Decider struct {
	o       Options
	current atomic.Pointer[loaded]
	reload  sync.Mutex
}

// loaded is the policy in force, or why there is none.
type loaded struct {
	p   *Policy
	err error
}

// New loads the policy. A policy that fails to load is not an error here:
// the Decider then denies every request with the reason (fail closed)
// until a Reload succeeds; LoadError says what went wrong.
func New(o Options) *Decider {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Notice == nil {
		o.Notice = func(string, ...any) {}
	}
	if o.Log == nil {
		o.Log = func(*Decision) {}
	}
	d := &Decider{o: o}
	p, err := d.load()
	d.current.Store(&loaded{p: p, err: err})
	o.Metrics.policyLoaded(err == nil)
	return d
}

func (d *Decider) load() (*Policy, error) {
	p, err := d.o.Load()
	if err != nil {
		return nil, err
	}
	if p == nil || p.Config == nil {
		return nil, errors.New("no configuration")
	}
	p.filter = &config.Filter{Config: p.Config, IgnoreFile: p.Ignores, Now: d.o.Now}
	return p, nil
}

// LoadError is why no policy is in force, nil when one is.
func (d *Decider) LoadError() error { return d.current.Load().err }

// Policy is the policy in force (nil when none loaded).
func (d *Decider) Policy() *Policy { return d.current.Load().p }

// Reload reads the policy again. A policy that fails to load leaves the
// one in force in place and returns why; with none in force, the failure
// is recorded as the reason every request is denied.
func (d *Decider) Reload() error {
	d.reload.Lock()
	defer d.reload.Unlock()
	p, err := d.load()
	if err != nil {
		d.o.Metrics.reloaded(false)
		if d.current.Load().p == nil {
			d.current.Store(&loaded{err: err})
		}
		return err
	}
	d.current.Store(&loaded{p: p})
	d.o.Metrics.reloaded(true)
	d.o.Metrics.policyLoaded(true)
	return nil
}

// Refused logs a message from the Engine that could not be read at all
// (the handler answers it with an error, which the Engine treats as a
// denial).
func (d *Decider) Refused(_ context.Context, err error) {
	dec := &Decision{Time: d.o.Now(), Verdict: VerdictDeny, Request: RequestInfo{Kind: KindUnknown},
		Error: err.Error(), Message: "dockvet: " + err.Error()}
	d.finish(dec, d.o.Now())
}

// Decide answers one request.
func (d *Decider) Decide(ctx context.Context, req *Request) *Decision {
	start := d.o.Now()
	r := classify(req.RequestMethod, req.RequestURI)
	cur := d.current.Load()
	dec := &Decision{Time: start, Request: RequestInfo{Method: req.RequestMethod, Path: pathOnly(req.RequestURI), Kind: r.Kind},
		User: req.User, AuthN: req.UserAuthNMethod}
	if cur.p == nil {
		dec.fail(fmt.Errorf("the policy did not load: %v", cur.err), "fix it and send dockvet SIGHUP", d.o.FailOpen)
		return d.finish(dec, start)
	}
	p := cur.p
	enf := &p.Config.Enforce
	dec.Mode = enf.Mode
	if r.Kind == KindRead {
		dec.Verdict = VerdictAllow
		if !d.o.LogReads {
			d.o.Metrics.decided(dec, d.o.Now().Sub(start))
			return dec
		}
		return d.finish(dec, start)
	}
	ctx, cancel := context.WithTimeout(ctx, enf.DecisionTimeout())
	defer cancel()
	j := &judgement{d: d, p: p, req: req, r: r, dec: dec}
	var err error
	switch r.Kind {
	case KindCreate:
		err = j.create(ctx)
	case KindExec:
		err = j.exec(ctx)
	case KindUpdate:
		err = j.update(ctx)
	case KindPull:
		err = j.pull(ctx)
	case KindStart:
		err = j.start()
	case KindUnknown:
		err = errors.New("the request's URI does not parse")
	}
	if err == nil && ctx.Err() != nil {
		err = fmt.Errorf("no decision within %s", enf.DecisionTimeout())
	}
	if err != nil {
		if ctx.Err() != nil && !strings.Contains(err.Error(), "no decision within") {
			err = fmt.Errorf("no decision within %s (%v)", enf.DecisionTimeout(), err)
		}
		dec.fail(err, failHint(r.Kind), enf.FailOpen())
		return d.finish(dec, start)
	}
	dec.judge(p, j.subject, d.o.Now())
	return d.finish(dec, start)
}

func failHint(k Kind) string {
	switch k {
	case KindCreate, KindExec, KindUpdate:
		return "send the settings as a JSON body of less than 1 MiB, as the docker CLI does"
	}
	return "see dockvet authz's log"
}

func (d *Decider) finish(dec *Decision, start time.Time) *Decision {
	dec.Duration = d.o.Now().Sub(start)
	d.o.Metrics.decided(dec, dec.Duration)
	d.o.Log(dec)
	return dec
}

// pathOnly is the URI without its query: a query can carry build
// arguments and other values that may be secrets.
func pathOnly(uri string) string {
	p, _, _ := strings.Cut(uri, "?")
	return p
}

// judgement is one request being judged.
type judgement struct {
	d       *Decider
	p       *Policy
	req     *Request
	r       route
	dec     *Decision
	subject config.Subject
}

// body decodes the request's JSON body into v. A judged request without a
// body is a failure: the Engine leaves the body out when it is 1 MiB or
// larger, sent in chunks or not labelled JSON, and the daemon may still
// read it.
func (j *judgement) body(v any) error {
	b, err := j.req.Body()
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return errors.New("the Engine sent no request body to judge (a body of 1 MiB or more, sent in chunks, or not labelled application/json is not passed to plugins)")
	}
	// Strict: one JSON value and nothing after it. The daemon reads the
	// first value and ignores the rest; whatever it might make of the
	// rest, the plugin does not judge half a body.
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("the request body does not decode: %s", oneLine(err.Error()))
	}
	return nil
}

func (j *judgement) create(ctx context.Context) error {
	var body containertypes.CreateRequest
	if err := j.body(&body); err != nil {
		return err
	}
	name := j.r.Query.Get("name")
	spec := live.CreateSpec(&body, name, live.Daemon{})
	img := spec.Image.Value
	j.dec.Request.Container, j.dec.Request.Image = name, img
	var labels map[string]string
	if body.Config != nil {
		labels = body.Config.Labels
	}
	j.subject = config.Subject{User: j.req.User, Image: img, Labels: labels}
	tname := name
	if tname == "" {
		tname = img
	}
	target := finding.Target{Kind: finding.SurfaceContainer, Name: tname}
	fs := container.Check(spec, container.Options{Target: target, Policy: j.p.Config.Policy(), Enabled: j.p.Config.Enabled})
	sig, err := j.signatures(ctx, img, target, func(ref string) string {
		return fmt.Sprintf("%s runs image %s, which", upperFirst(spec.Label()), ref)
	})
	if err != nil {
		return err
	}
	j.dec.add(j.p, append(fs, sig...))
	return nil
}

// signatures checks the signature the trust policy requires of img: by its
// digest when the reference pins one, else by the registry digests the
// Engine recorded for it. A reference with neither is reported as one
// whose signature cannot be checked (DV6501), never passed.
func (j *judgement) signatures(ctx context.Context, img string, target finding.Target, who func(string) string) ([]finding.Finding, error) {
	v := j.p.Verifier
	if v == nil || img == "" {
		return nil, nil
	}
	ref, err := policy.ParseImage(img)
	if err != nil || len(j.p.Config.Policy().RequiredSigners(ref)) == 0 {
		return nil, nil
	}
	var repoDigests []string
	if ref.Digest == "" && j.d.o.Engine != nil {
		res, err := j.d.o.Engine.ImageInspect(ctx, img)
		if err == nil {
			repoDigests = res.RepoDigests
		}
	}
	s := sign.Subject{Name: img, Digests: sign.RepoDigests(img, repoDigests), Target: target,
		Location: finding.Location{Container: target.Name}, Who: who(img)}
	fs, err := v.Check(ctx, s)
	if err != nil {
		return nil, fmt.Errorf("checking the signature of %s: %v", img, err)
	}
	return fs, nil
}

// inspect asks the Engine about the container a request names; nil when
// there is no Engine to ask or it does not know the container.
func (j *judgement) inspect(ctx context.Context) *live.Container {
	if j.d.o.Engine == nil || j.r.ID == "" {
		return nil
	}
	res, err := j.d.o.Engine.ContainerInspect(ctx, j.r.ID, client.ContainerInspectOptions{})
	if err != nil {
		return nil
	}
	return &live.Container{Inspect: res.Container}
}

// ruleDV5002 is the exec rule that needs the container's user when the
// exec names none.
const ruleDV5002 = "DV5002"

func (j *judgement) exec(ctx context.Context) error {
	var body containertypes.ExecCreateRequest
	if err := j.body(&body); err != nil {
		return err
	}
	lc := j.inspect(ctx)
	priv := body.Privileged
	x := &watch.Exec{
		Event: watch.Event{Type: "container", Action: "exec_create", Actor: j.r.ID, Time: j.d.o.Now()},
		Inspect: containertypes.ExecInspectResponse{ContainerID: j.r.ID,
			ProcessConfig: &containertypes.ExecProcessConfig{Privileged: &priv, User: body.User}},
		Container: lc,
	}
	if len(body.Cmd) > 0 {
		// The program only: arguments may carry a password.
		x.Inspect.ProcessConfig.Entrypoint = body.Cmd[0]
	}
	name := j.r.ID
	j.subject = config.Subject{User: j.req.User}
	if lc != nil {
		name = lc.Name()
		if cfg := lc.Inspect.Config; cfg != nil {
			j.subject.Image, j.subject.Labels = cfg.Image, cfg.Labels
		}
		x.Event.Name = name
	}
	j.dec.Request.Container, j.dec.Request.Image = name, j.subject.Image
	target := finding.Target{Kind: finding.SurfaceWatch, Name: name}
	fs := watch.CheckExec(x, target, j.p.Config.Enabled)
	if lc == nil && strings.TrimSpace(body.User) == "" {
		// The exec runs as the container's user, which only the Engine
		// knows: without asking it, "root" would be a guess.
		fs = slices.DeleteFunc(fs, func(f finding.Finding) bool { return f.RuleID == ruleDV5002 })
	}
	j.dec.add(j.p, fs)
	return nil
}

// The container rules whose state an update can bring back.
const (
	ruleNoMemoryLimit = "DV3030"
	ruleNoCPULimit    = "DV3031"
	ruleNoPidsLimit   = "DV3032"
	ruleUnlimited     = "DV3033"
)

// update reports the limits an update removes, as the container rules
// that report a container without them: `docker update --pids-limit -1`
// leaves the container as DV3032 describes. A value the update does not
// give (zero) keeps the container's.
func (j *judgement) update(ctx context.Context) error {
	var body containertypes.UpdateConfig
	if err := j.body(&body); err != nil {
		return err
	}
	lc := j.inspect(ctx)
	name := j.r.ID
	j.subject = config.Subject{User: j.req.User}
	if lc != nil {
		name = lc.Name()
		if cfg := lc.Inspect.Config; cfg != nil {
			j.subject.Image, j.subject.Labels = cfg.Image, cfg.Labels
		}
	}
	j.dec.Request.Container, j.dec.Request.Image = name, j.subject.Image
	target := finding.Target{Kind: finding.SurfaceContainer, Name: name}
	who := "An update of container " + name
	var fs []finding.Finding
	report := func(id, format string, args ...any) {
		if r := containerRule(id); r != nil && j.p.Config.Enabled(r) {
			fs = append(fs, finding.New(r, target, finding.Location{Container: name}, who+" "+fmt.Sprintf(format, args...)))
		}
	}
	res := body.Resources
	if res.Memory < 0 {
		report(ruleNoMemoryLimit, "removes its memory limit (Memory %d).", res.Memory)
	}
	if res.CPUQuota < 0 {
		report(ruleNoCPULimit, "removes its CPU quota (CPUQuota %d).", res.CPUQuota)
	}
	if res.NanoCPUs < 0 {
		report(ruleNoCPULimit, "removes its CPU limit (NanoCpus %d).", res.NanoCPUs)
	}
	if res.PidsLimit != nil && *res.PidsLimit <= 0 {
		report(ruleNoPidsLimit, "removes its pids limit (PidsLimit %d).", *res.PidsLimit)
	}
	for _, u := range res.Ulimits {
		if u != nil && (u.Soft < 0 || u.Hard < 0) {
			report(ruleUnlimited, "sets ulimit %s to unlimited.", u.Name)
		}
	}
	j.dec.add(j.p, fs)
	return nil
}

var containerRules = sync.OnceValue(func() map[string]*finding.Rule {
	m := map[string]*finding.Rule{}
	for _, r := range container.Catalog() {
		r := r
		m[r.ID] = &r
	}
	return m
})

func containerRule(id string) *finding.Rule { return containerRules()[id] }

// The trust policy's rules, which a pull faces as a container's image does.
const (
	ruleUntrustedRegistry = "DV3072"
	rulePolicyDigest      = "DV3073"
	ruleUnsigned          = "DV6501"
)

// pull judges `docker pull` (and the pull `docker run` makes) by the trust
// policy: the registry allow-list, digests where the policy requires
// them, and signatures where it requires them. A signature can only be
// checked before the pull for a digest: a tag may point elsewhere by the
// time the Engine resolves it.
func (j *judgement) pull(ctx context.Context) error {
	ref := pullRef(j.r.Query.Get("fromImage"), j.r.Query.Get("tag"))
	j.dec.Request.Image = ref
	j.subject = config.Subject{User: j.req.User, Image: ref}
	img, err := policy.ParseImage(ref)
	if err != nil {
		return fmt.Errorf("the image to pull: %v", err)
	}
	pol := j.p.Config.Policy()
	target := finding.Target{Kind: finding.SurfaceImage, Name: ref}
	var fs []finding.Finding
	report := func(r *finding.Rule, format string, args ...any) {
		if r != nil && j.p.Config.Enabled(r) {
			fs = append(fs, finding.New(r, target, finding.Location{}, fmt.Sprintf(format, args...)))
		}
	}
	if pol.HasAllowList() && !pol.Trusted(img) {
		report(containerRule(ruleUntrustedRegistry), "Image %s is pulled from %s, which is not in trustedRegistries.", ref, img.Domain)
	}
	if !img.Pinned() && pol.RequiresDigest(img) {
		report(containerRule(rulePolicyDigest), "Image %s is pulled by tag, but the trust policy requires a digest for %s.", ref, img.Repository)
	}
	if j.p.Verifier != nil && len(pol.RequiredSigners(img)) > 0 {
		if !img.Pinned() {
			report(signRule(), "Image %s is pulled by tag, so the signature the trust policy requires cannot be checked before the pull; pull it by digest.", ref)
		} else {
			s := sign.Subject{Name: ref, Digests: []string{img.Repository + "@" + img.Digest}, Target: target, Who: "Image " + ref}
			sfs, err := j.p.Verifier.Check(ctx, s)
			if err != nil {
				return fmt.Errorf("checking the signature of %s: %v", ref, err)
			}
			fs = append(fs, sfs...)
		}
	}
	j.dec.add(j.p, fs)
	return nil
}

var signRule = sync.OnceValue(func() *finding.Rule {
	for _, r := range sign.Catalog() {
		if r.ID == ruleUnsigned {
			return &r
		}
	}
	return nil
})

// pullRef is the reference a pull names: fromImage, with the tag query
// parameter as its tag or digest.
func pullRef(fromImage, tag string) string {
	switch {
	case tag == "":
		return fromImage
	case strings.Contains(tag, ":"):
		return fromImage + "@" + tag
	}
	return fromImage + ":" + tag
}

// start refuses a start request that carries settings: Engine API
// versions before 1.24 took a HostConfig on start, which would change the
// container after its create was judged.
func (j *judgement) start() error {
	b, err := j.req.Body()
	if err != nil {
		return err
	}
	if t := bytes.TrimSpace(b); len(t) > 0 && string(t) != "{}" && string(t) != "null" {
		return errors.New("a start request carries settings (HostConfig on start, Engine API before 1.24), which were not judged at create")
	}
	return nil
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// LoadPolicy reads a policy: the configuration file (required), the ignore
// file when one is named, and the signature verifier the configuration
// calls for (nil: signatures are not checked).
func LoadPolicy(configPath, ignorePath string, verifier func(*config.Config) (Verifier, error)) (*Policy, error) {
	cfg, err := config.Load(configPath, true)
	if err != nil {
		return nil, err
	}
	p := &Policy{Config: cfg, Source: configPath}
	if ignorePath != "" {
		if p.Ignores, err = config.LoadIgnoreFile(ignorePath, true); err != nil {
			return nil, err
		}
	}
	if verifier != nil {
		if p.Verifier, err = verifier(cfg); err != nil {
			return nil, fmt.Errorf("trust policy: %v", err)
		}
	}
	return p, nil
}
