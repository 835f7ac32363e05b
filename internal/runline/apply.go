package runline

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"

	composetypes "github.com/compose-spec/compose-go/v2/types"
	"github.com/docker/cli/opts"
	"github.com/docker/go-units"

	"github.com/dockvet/dockvet/internal/container"
)

func (st *state) privileged(v string, at int) error {
	st.spec.Privileged = container.Of(parseBool(v), st.src(at))
	return nil
}

func (st *state) capAdd(v string, at int) error {
	for _, c := range strings.Split(v, ",") {
		if c = strings.TrimSpace(c); c != "" {
			st.spec.CapAdd = append(st.spec.CapAdd, container.Of(container.NormalizeCap(c), st.src(at)))
		}
	}
	return nil
}

func (st *state) capDrop(v string, at int) error {
	for _, c := range strings.Split(v, ",") {
		if c = strings.TrimSpace(c); c != "" {
			st.spec.CapDrop = append(st.spec.CapDrop, container.Of(container.NormalizeCap(c), st.src(at)))
		}
	}
	return nil
}

func (st *state) securityOpt(v string, at int) error {
	return container.ApplySecurityOpt(&st.spec.Security, v, st.src(at))
}

func (st *state) user(v string, at int) error {
	st.spec.User = container.Of(v, st.src(at))
	return nil
}

func (st *state) pid(v string, at int) error {
	st.spec.Namespaces.PID = container.Of(v, st.src(at))
	return nil
}

func (st *state) ipc(v string, at int) error {
	st.spec.Namespaces.IPC = container.Of(v, st.src(at))
	return nil
}

func (st *state) uts(v string, at int) error {
	st.spec.Namespaces.UTS = container.Of(v, st.src(at))
	return nil
}

func (st *state) network(v string, at int) error {
	// --network can be repeated to join several networks; only a mode
	// such as "host" or "container:x" matters to the rules.
	if !st.spec.Namespaces.Network.Set || v == "host" {
		st.spec.Namespaces.Network = container.Of(v, st.src(at))
	}
	return nil
}

func (st *state) cgroupns(v string, at int) error {
	st.spec.Namespaces.Cgroup = container.Of(v, st.src(at))
	return nil
}

func (st *state) cgroupParent(v string, at int) error {
	st.spec.CgroupParent = container.Of(v, st.src(at))
	return nil
}

func (st *state) userns(v string, at int) error {
	st.spec.Namespaces.User = container.Of(v, st.src(at))
	return nil
}

// volume reads `-v` as container.ParseBind does: the Engine's
// HostConfig.Binds hold the same strings.
func (st *state) volume(v string, at int) error {
	m, err := container.ParseBind(v, st.src(at))
	if err != nil {
		return err
	}
	st.spec.Mounts = append(st.spec.Mounts, m)
	return nil
}

// mount reads `--mount` with the Docker CLI's own CSV parser.
func (st *state) mount(v string, at int) error {
	var mo opts.MountOpt
	if err := mo.Set(v); err != nil {
		return err
	}
	for _, mt := range mo.Value() {
		// The CLI makes a relative source absolute against its working
		// directory; dockvet is not running there, so keep it as written.
		mt.Source = rawMountSource(v, mt.Source)
		st.spec.Mounts = append(st.spec.Mounts, container.FromEngineMount(mt, st.src(at)))
	}
	return nil
}

func rawMountSource(csvValue, parsed string) string {
	fields, err := csv.NewReader(strings.NewReader(csvValue)).Read()
	if err != nil {
		return parsed
	}
	for _, f := range fields {
		k, val, _ := strings.Cut(f, "=")
		if k = strings.ToLower(strings.TrimSpace(k)); k == "source" || k == "src" {
			return strings.TrimSpace(val)
		}
	}
	return parsed
}

func (st *state) tmpfs(v string, at int) error {
	target, _, _ := strings.Cut(v, ":")
	st.spec.Mounts = append(st.spec.Mounts, container.Mount{Type: container.MountTmpfs, Target: target, Src: st.src(at)})
	return nil
}

// device reads "host[:container][:permissions]", as the Docker CLI's
// parseLinuxDevice does; a CDI name ("vendor.com/class=name") is kept
// whole.
func (st *state) device(v string, at int) error {
	d := container.Device{Src: st.src(at)}
	parts := strings.Split(v, ":")
	switch {
	case strings.Contains(v, "=") && !strings.HasPrefix(v, "/"):
		d.Host = v
	case len(parts) == 3:
		d.Host, d.Container, d.Permissions = parts[0], parts[1], parts[2]
	case len(parts) == 2 && validDeviceMode(parts[1]):
		d.Host, d.Container, d.Permissions = parts[0], parts[0], parts[1]
	case len(parts) == 2:
		d.Host, d.Container = parts[0], parts[1]
	case len(parts) == 1:
		d.Host, d.Container = parts[0], parts[0]
	default:
		return fmt.Errorf("bad device specification")
	}
	if d.Host == "" {
		return fmt.Errorf("bad device specification")
	}
	st.spec.Devices = append(st.spec.Devices, d)
	return nil
}

func validDeviceMode(m string) bool {
	if m == "" || len(m) > 3 {
		return false
	}
	seen := map[rune]bool{}
	for _, c := range m {
		if !strings.ContainsRune("rwm", c) || seen[c] {
			return false
		}
		seen[c] = true
	}
	return true
}

func (st *state) deviceCgroupRule(v string, at int) error {
	st.spec.DeviceCgroupRules = append(st.spec.DeviceCgroupRules, container.Of(v, st.src(at)))
	return nil
}

// publish reads `-p` with the same parser (go-connections' nat, through
// compose-go) that Compose uses for its short port syntax.
func (st *state) publish(v string, at int) error {
	pcs, err := composetypes.ParsePortConfig(v)
	if err != nil {
		return err
	}
	for _, pc := range pcs {
		p, err := container.PortFromMapping(pc.HostIP, pc.Target, pc.Published, pc.Protocol, st.src(at))
		if err != nil {
			return err
		}
		st.spec.Ports = append(st.spec.Ports, p)
	}
	return nil
}

func (st *state) publishAll(v string, at int) error {
	st.spec.PublishAll = container.Of(parseBool(v), st.src(at))
	return nil
}

func (st *state) memory(v string, at int) error {
	n, err := units.RAMInBytes(v)
	if err == nil {
		st.spec.Resources.Memory = container.Of(n, st.src(at))
	}
	return err
}

func (st *state) memorySwap(v string, at int) error {
	n := int64(-1)
	if v != "-1" {
		var err error
		if n, err = units.RAMInBytes(v); err != nil {
			return err
		}
	}
	st.spec.Resources.MemorySwap = container.Of(n, st.src(at))
	return nil
}

func (st *state) memoryReservation(v string, at int) error {
	n, err := units.RAMInBytes(v)
	if err == nil {
		st.spec.Resources.MemoryReservation = container.Of(n, st.src(at))
	}
	return err
}

func (st *state) cpus(v string, at int) error {
	n, err := opts.ParseCPUs(v)
	if err == nil {
		st.spec.Resources.NanoCPUs = container.Of(n, st.src(at))
	}
	return err
}

func (st *state) int64Setting(dst *container.Setting[int64], v string, at int) error {
	n, err := strconv.ParseInt(v, 10, 64)
	if err == nil {
		*dst = container.Of(n, st.src(at))
	}
	return err
}

func (st *state) cpuShares(v string, at int) error {
	return st.int64Setting(&st.spec.Resources.CPUShares, v, at)
}

func (st *state) cpuQuota(v string, at int) error {
	return st.int64Setting(&st.spec.Resources.CPUQuota, v, at)
}

func (st *state) cpuPeriod(v string, at int) error {
	return st.int64Setting(&st.spec.Resources.CPUPeriod, v, at)
}

func (st *state) pidsLimit(v string, at int) error {
	return st.int64Setting(&st.spec.Resources.PidsLimit, v, at)
}

func (st *state) cpusetCPUs(v string, at int) error {
	st.spec.Resources.CpusetCPUs = container.Of(v, st.src(at))
	return nil
}

func (st *state) ulimit(v string, at int) error {
	u, err := units.ParseUlimit(v)
	if err != nil {
		return err
	}
	st.spec.Ulimits = append(st.spec.Ulimits, container.Ulimit{Name: u.Name, Soft: u.Soft, Hard: u.Hard, Src: st.src(at)})
	return nil
}

func (st *state) readOnly(v string, at int) error {
	st.spec.ReadOnlyRootfs = container.Of(parseBool(v), st.src(at))
	return nil
}

func (st *state) restart(v string, at int) error {
	p, err := container.ParseRestart(v)
	if err == nil {
		st.spec.Restart = container.Of(p, st.src(at))
	}
	return err
}

func (st *state) env(v string, at int) error {
	name, val, hasVal := strings.Cut(v, "=")
	if name == "" {
		return fmt.Errorf("invalid environment variable: %s", v)
	}
	st.spec.Env = append(st.spec.Env, container.EnvVar{Name: name, Value: val, Known: hasVal, Src: st.src(at)})
	return nil
}

// envFile reads an env file in Docker's format: NAME=VALUE lines taken
// literally, NAME alone to pass the variable from the caller's
// environment, # comments. Values are attributed to the --env-file option
// with a note naming the file and line, so that a finding stays in the
// file being audited.
func (st *state) envFile(v string, at int) error {
	if st.opts.ReadFile == nil || strings.Contains(v, "$") {
		return nil
	}
	data, err := st.opts.ReadFile(st.resolve(v))
	if err != nil {
		if st.opts.Strict {
			return fmt.Errorf("cannot read env file: %v", unwrapPath(err))
		}
		return nil
	}
	vars, err := ParseEnvFile(data)
	if err != nil {
		return fmt.Errorf("env file %s: %v", v, err)
	}
	for _, e := range vars {
		src := st.src(at)
		src.Note = fmt.Sprintf("from %s line %d", v, e.Line)
		st.spec.Env = append(st.spec.Env, container.EnvVar{Name: e.Name, Value: e.Value, Known: e.Known, Src: src})
	}
	return nil
}

// EnvLine is one variable of an env file.
type EnvLine struct {
	Name, Value string
	Known       bool
	Line        int
}

// ParseEnvFile reads Docker's env-file format.
func ParseEnvFile(data []byte) ([]EnvLine, error) {
	var out []EnvLine
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimLeft(sc.Text(), " \t")
		if n == 1 {
			line = strings.TrimPrefix(line, "\ufeff")
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, val, hasVal := strings.Cut(line, "=")
		name = strings.TrimLeft(name, " \t")
		if name == "" {
			return nil, fmt.Errorf("line %d: no variable name", n)
		}
		if strings.ContainsAny(name, " \t") {
			return nil, fmt.Errorf("line %d: variable %q contains whitespace", n, name)
		}
		out = append(out, EnvLine{Name: name, Value: val, Known: hasVal, Line: n})
	}
	return out, sc.Err()
}

func (st *state) healthCmd(v string, at int) error {
	st.spec.Healthcheck = container.Of(container.Healthcheck{Test: []string{"CMD-SHELL", v}}, st.src(at))
	return nil
}

func (st *state) noHealthcheck(v string, at int) error {
	if parseBool(v) {
		st.spec.Healthcheck = container.Of(container.Healthcheck{Disabled: true}, st.src(at))
	}
	return nil
}

func (st *state) sysctl(v string, at int) error {
	name, val, ok := strings.Cut(v, "=")
	if !ok || name == "" {
		return fmt.Errorf("sysctl must be name=value")
	}
	st.spec.Sysctls = append(st.spec.Sysctls, container.Sysctl{Name: name, Value: val, Src: st.src(at)})
	return nil
}

func (st *state) logDriver(v string, at int) error {
	l := st.spec.Log.Value
	l.Driver = v
	st.spec.Log = container.Of(l, st.src(at))
	return nil
}

func (st *state) logOpt(v string, at int) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok {
		return fmt.Errorf("log option must be key=value")
	}
	l := st.spec.Log
	if l.Value.Options == nil {
		l.Value.Options = map[string]string{}
	}
	l.Value.Options[k] = val
	if !l.Set {
		l.Src = st.src(at)
	}
	l.Set = true
	st.spec.Log = l
	return nil
}

func (st *state) name(v string, _ int) error {
	st.spec.Name = v
	return nil
}

// useAPISocket: `--use-api-socket` bind-mounts the Engine socket (and the
// caller's registry credentials) into the container.
func (st *state) useAPISocket(v string, at int) error {
	if parseBool(v) {
		st.spec.Mounts = append(st.spec.Mounts, container.APISocketMount(st.src(at)))
	}
	return nil
}

func (st *state) help(v string, _ int) error {
	st.helpAsked = parseBool(v)
	return nil
}
