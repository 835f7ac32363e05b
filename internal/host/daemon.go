package host

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// DaemonConfig is the daemon's effective configuration: its command-line
// flags and daemon.json merged as dockerd merges them. Unset options are
// nil or empty; the checks apply dockerd's defaults.
type DaemonConfig struct {
	Hosts                []string          `json:"hosts,omitempty"`
	TLS                  *bool             `json:"tls,omitempty"`
	TLSVerify            *bool             `json:"tlsverify,omitempty"`
	TLSCACert            string            `json:"tlscacert,omitempty"`
	TLSCert              string            `json:"tlscert,omitempty"`
	TLSKey               string            `json:"tlskey,omitempty"`
	ICC                  *bool             `json:"icc,omitempty"`
	IPTables             *bool             `json:"iptables,omitempty"`
	UserlandProxy        *bool             `json:"userland-proxy,omitempty"`
	LiveRestore          *bool             `json:"live-restore,omitempty"`
	NoNewPrivileges      *bool             `json:"no-new-privileges,omitempty"`
	Experimental         *bool             `json:"experimental,omitempty"`
	SELinuxEnabled       *bool             `json:"selinux-enabled,omitempty"`
	Debug                *bool             `json:"debug,omitempty"`
	Rootless             *bool             `json:"rootless,omitempty"`
	LogLevel             string            `json:"log-level,omitempty"`
	InsecureRegistries   []string          `json:"insecure-registries,omitempty"`
	RegistryMirrors      []string          `json:"registry-mirrors,omitempty"`
	StorageDriver        string            `json:"storage-driver,omitempty"`
	StorageOpts          []string          `json:"storage-opts,omitempty"`
	DefaultUlimits       map[string]string `json:"default-ulimits,omitempty"`
	UsernsRemap          string            `json:"userns-remap,omitempty"`
	CgroupParent         string            `json:"cgroup-parent,omitempty"`
	AuthorizationPlugins []string          `json:"authorization-plugins,omitempty"`
	LogDriver            string            `json:"log-driver,omitempty"`
	LogOpts              map[string]string `json:"log-opts,omitempty"`
	SeccompProfile       string            `json:"seccomp-profile,omitempty"`
	Bridge               string            `json:"bridge,omitempty"`
	DataRoot             string            `json:"data-root,omitempty"`
	Containerd           string            `json:"containerd,omitempty"`
	DefaultCgroupnsMode  string            `json:"default-cgroupns-mode,omitempty"`
	Group                string            `json:"group,omitempty"`
	ConfigFile           string            `json:"config-file,omitempty"`

	// Origins says where each option was set, by daemon.json key.
	Origins map[string]Origin `json:"origins,omitempty"`
	// Conflicts are options set both on the command line and in
	// daemon.json. dockerd refuses to start with such a pair, so a
	// running daemon has the flag's value and daemon.json changed later.
	Conflicts []string `json:"conflicts,omitempty"`
}

// Origin is where one option was set.
type Origin struct {
	// Path is daemon.json, or the file the command line was read from.
	Path string `json:"path"`
	// Line is the line of the key in daemon.json (0 for flags).
	Line int `json:"line,omitempty"`
	// Flag is the command-line flag as written ("--icc=false").
	Flag string `json:"flag,omitempty"`
}

// daemonOption describes one option dockerd takes both as a flag and as a
// daemon.json key; only the options a check reads are listed.
type daemonOption struct {
	key   string // daemon.json key
	long  string // flag name without dashes
	short string // one-letter flag
	kind  optKind
}

type optKind int

const (
	optString optKind = iota
	optBool
	optList // repeatable flag, JSON array
	optMap  // repeatable key=value flag, JSON object
	optUlimit
)

var daemonOptions = []daemonOption{
	{"hosts", "host", "H", optList},
	{"tls", "tls", "", optBool},
	{"tlsverify", "tlsverify", "", optBool},
	{"tlscacert", "tlscacert", "", optString},
	{"tlscert", "tlscert", "", optString},
	{"tlskey", "tlskey", "", optString},
	{"icc", "icc", "", optBool},
	{"iptables", "iptables", "", optBool},
	{"userland-proxy", "userland-proxy", "", optBool},
	{"live-restore", "live-restore", "", optBool},
	{"no-new-privileges", "no-new-privileges", "", optBool},
	{"experimental", "experimental", "", optBool},
	{"selinux-enabled", "selinux-enabled", "", optBool},
	{"debug", "debug", "D", optBool},
	{"rootless", "rootless", "", optBool},
	{"log-level", "log-level", "l", optString},
	{"insecure-registries", "insecure-registry", "", optList},
	{"registry-mirrors", "registry-mirror", "", optList},
	{"storage-driver", "storage-driver", "s", optString},
	{"storage-opts", "storage-opt", "", optList},
	{"default-ulimits", "default-ulimit", "", optUlimit},
	{"userns-remap", "userns-remap", "", optString},
	{"cgroup-parent", "cgroup-parent", "", optString},
	{"authorization-plugins", "authorization-plugin", "", optList},
	{"log-driver", "log-driver", "", optString},
	{"log-opts", "log-opt", "", optMap},
	{"seccomp-profile", "seccomp-profile", "", optString},
	{"bridge", "bridge", "b", optString},
	{"data-root", "data-root", "", optString},
	{"containerd", "containerd", "", optString},
	{"default-cgroupns-mode", "default-cgroupns-mode", "", optString},
	{"group", "group", "G", optString},
	// --graph/-g is the old name of --data-root (removed in 23.0).
	{"graph", "graph", "g", optString},
	{"config-file", "config-file", "", optString},
}

// dockerdBoolFlags are dockerd's boolean flags that no check reads: they
// take no separate value, so the parser must not swallow the next word.
var dockerdBoolFlags = map[string]bool{
	"ip6tables": true, "ip-forward": true, "ip-masq": true, "ipv6": true, "init": true,
	"raw-logs": true, "validate": true, "disable-legacy-registry": true, "help": true,
	"version": true, "h": true, "v": true, "ip-forward-no-drop": true, "allow-direct-routing": true,
}

func optionByFlag(name string) (daemonOption, bool) {
	for _, o := range daemonOptions {
		if name == o.long || (o.short != "" && name == o.short) {
			return o, true
		}
	}
	return daemonOption{}, false
}

// flagValue is one option as the command line set it.
type flagValue struct {
	opt    daemonOption
	values []string
	text   string
}

// parseDaemonArgs reads dockerd's command line (without the program name)
// the way its flag parser does: --name=value, --name value, -H value,
// -Hvalue, boolean flags with an optional =value. Unknown flags are
// skipped; an unknown flag without =value is taken to carry a value,
// which is what every non-boolean dockerd flag does.
func parseDaemonArgs(args []string) map[string]*flagValue {
	out := map[string]*flagValue{}
	add := func(o daemonOption, v, text string) {
		fv := out[o.key]
		if fv == nil {
			fv = &flagValue{opt: o}
			out[o.key] = fv
		}
		if o.kind == optList || o.kind == optMap || o.kind == optUlimit {
			fv.values = append(fv.values, v)
			if fv.text != "" {
				text = fv.text + " " + text
			}
		} else {
			fv.values = []string{v}
		}
		fv.text = text
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			continue
		}
		var name, value string
		hasValue := false
		if strings.HasPrefix(a, "--") {
			name = a[2:]
			if k := strings.IndexByte(name, '='); k >= 0 {
				name, value, hasValue = name[:k], name[k+1:], true
			}
		} else {
			// Shorthand: -H value, -H=value, -Hvalue, -D.
			name = a[1:2]
			rest := a[2:]
			switch {
			case strings.HasPrefix(rest, "="):
				value, hasValue = rest[1:], true
			case rest != "":
				if o, ok := optionByFlag(name); ok && o.kind == optBool {
					// -Dl is not something dockerd users write; keep -D.
					break
				}
				value, hasValue = rest, true
			}
		}
		o, known := optionByFlag(name)
		if !known {
			if !hasValue && !dockerdBoolFlags[name] && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
				i++
			}
			continue
		}
		if o.kind == optBool {
			if !hasValue {
				value = "true"
			}
			add(o, value, a)
			continue
		}
		if !hasValue {
			if i+1 >= len(args) {
				continue
			}
			i++
			value = args[i]
			add(o, value, a+" "+value)
			continue
		}
		add(o, value, a)
	}
	if g, ok := out["graph"]; ok {
		if _, set := out["data-root"]; !set {
			g.opt.key = "data-root"
			out["data-root"] = g
		}
		delete(out, "graph")
	}
	return out
}

// daemonJSON is the subset of daemon.json the checks read, with the
// types dockerd gives them: a value of another type makes dockerd refuse
// the file, and makes it a Problem here.
type daemonJSON struct {
	Hosts                []string                   `json:"hosts"`
	TLS                  *bool                      `json:"tls"`
	TLSVerify            *bool                      `json:"tlsverify"`
	TLSCACert            string                     `json:"tlscacert"`
	TLSCert              string                     `json:"tlscert"`
	TLSKey               string                     `json:"tlskey"`
	ICC                  *bool                      `json:"icc"`
	IPTables             *bool                      `json:"iptables"`
	UserlandProxy        *bool                      `json:"userland-proxy"`
	LiveRestore          *bool                      `json:"live-restore"`
	NoNewPrivileges      *bool                      `json:"no-new-privileges"`
	Experimental         *bool                      `json:"experimental"`
	SELinuxEnabled       *bool                      `json:"selinux-enabled"`
	Debug                *bool                      `json:"debug"`
	Rootless             *bool                      `json:"rootless"`
	LogLevel             string                     `json:"log-level"`
	InsecureRegistries   []string                   `json:"insecure-registries"`
	RegistryMirrors      []string                   `json:"registry-mirrors"`
	StorageDriver        string                     `json:"storage-driver"`
	StorageOpts          []string                   `json:"storage-opts"`
	DefaultUlimits       map[string]jsonUlimit      `json:"default-ulimits"`
	UsernsRemap          string                     `json:"userns-remap"`
	CgroupParent         string                     `json:"cgroup-parent"`
	AuthorizationPlugins []string                   `json:"authorization-plugins"`
	LogDriver            string                     `json:"log-driver"`
	LogOpts              map[string]string          `json:"log-opts"`
	SeccompProfile       string                     `json:"seccomp-profile"`
	Bridge               string                     `json:"bridge"`
	DataRoot             string                     `json:"data-root"`
	Graph                string                     `json:"graph"`
	Containerd           string                     `json:"containerd"`
	DefaultCgroupnsMode  string                     `json:"default-cgroupns-mode"`
	Group                string                     `json:"group"`
	Rest                 map[string]json.RawMessage `json:"-"`
}

type jsonUlimit struct {
	Name string `json:"Name"`
	Hard int64  `json:"Hard"`
	Soft int64  `json:"Soft"`
}

// jsonKeyLines returns the line of every top-level key of a JSON object.
func jsonKeyLines(data []byte) map[string]int {
	lines := map[string]int{}
	dec := json.NewDecoder(bytes.NewReader(data))
	depth := 0
	expectKey := false
	for {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return lines
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				depth++
				expectKey = t == '{' && depth == 1
			case '}', ']':
				depth--
				expectKey = depth == 1
			}
			continue
		case string:
			if depth == 1 && expectKey {
				// The offset before the token may include the separator
				// and white space; the key starts at the first quote.
				k := start + int64(bytes.IndexByte(data[start:], '"'))
				lines[t] = 1 + bytes.Count(data[:k], []byte{'\n'})
				expectKey = false
				continue
			}
		}
		if depth == 1 {
			expectKey = true
		}
	}
}

// parseDaemonJSON reads daemon.json. dockerd rejects a file that is not a
// JSON object or whose values have the wrong types, and so does this.
func parseDaemonJSON(data []byte) (*daemonJSON, map[string]int, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, nil, fmt.Errorf("not a JSON object: %v", err)
	}
	var dj daemonJSON
	if err := json.Unmarshal(data, &dj); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, nil, fmt.Errorf("%q has a %s where dockerd wants a %s", te.Field, te.Value, te.Type)
		}
		return nil, nil, err
	}
	dj.Rest = raw
	lines := jsonKeyLines(data)
	keyLines := map[string]int{}
	for k := range raw {
		keyLines[k] = lines[k]
	}
	return &dj, keyLines, nil
}

// mergeDaemonConfig merges command-line flags and daemon.json the way
// dockerd does: an option may come from one place only; both is a
// conflict (dockerd refuses to start), and the flag's value is what a
// running daemon has.
func mergeDaemonConfig(flags map[string]*flagValue, argsFrom string, dj *daemonJSON, keyLines map[string]int, jsonPath string) DaemonConfig {
	var c DaemonConfig
	c.Origins = map[string]Origin{}
	if dj != nil {
		c.Hosts = dj.Hosts
		c.TLS, c.TLSVerify = dj.TLS, dj.TLSVerify
		c.TLSCACert, c.TLSCert, c.TLSKey = dj.TLSCACert, dj.TLSCert, dj.TLSKey
		c.ICC, c.IPTables, c.UserlandProxy = dj.ICC, dj.IPTables, dj.UserlandProxy
		c.LiveRestore, c.NoNewPrivileges, c.Experimental = dj.LiveRestore, dj.NoNewPrivileges, dj.Experimental
		c.SELinuxEnabled, c.Debug, c.Rootless = dj.SELinuxEnabled, dj.Debug, dj.Rootless
		c.LogLevel = dj.LogLevel
		c.InsecureRegistries = dj.InsecureRegistries
		c.RegistryMirrors = dj.RegistryMirrors
		c.StorageDriver, c.StorageOpts = dj.StorageDriver, dj.StorageOpts
		if len(dj.DefaultUlimits) > 0 {
			c.DefaultUlimits = map[string]string{}
			for name, u := range dj.DefaultUlimits {
				c.DefaultUlimits[name] = fmt.Sprintf("%d:%d", u.Soft, u.Hard)
			}
		}
		c.UsernsRemap, c.CgroupParent = dj.UsernsRemap, dj.CgroupParent
		c.AuthorizationPlugins = dj.AuthorizationPlugins
		c.LogDriver, c.LogOpts = dj.LogDriver, dj.LogOpts
		c.SeccompProfile, c.Bridge = dj.SeccompProfile, dj.Bridge
		c.DataRoot = dj.DataRoot
		if c.DataRoot == "" {
			c.DataRoot = dj.Graph
		}
		c.Containerd, c.DefaultCgroupnsMode, c.Group = dj.Containerd, dj.DefaultCgroupnsMode, dj.Group
		for k, line := range keyLines {
			if k == "graph" {
				k = "data-root"
			}
			c.Origins[k] = Origin{Path: jsonPath, Line: line}
		}
	}
	keys := make([]string, 0, len(flags))
	for k := range flags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fv := flags[k]
		if _, inFile := c.Origins[k]; inFile && k != "config-file" {
			c.Conflicts = append(c.Conflicts, k)
		}
		c.Origins[k] = Origin{Path: argsFrom, Flag: fv.text}
		c.setFlag(fv)
	}
	return c
}

func (c *DaemonConfig) setFlag(fv *flagValue) {
	last := fv.values[len(fv.values)-1]
	b := func() *bool {
		v, err := strconv.ParseBool(last)
		if err != nil {
			// dockerd rejects such a flag; a running daemon cannot have it.
			return nil
		}
		return &v
	}
	switch fv.opt.key {
	case "hosts":
		c.Hosts = slices.Clone(fv.values)
	case "tls":
		c.TLS = b()
	case "tlsverify":
		c.TLSVerify = b()
	case "tlscacert":
		c.TLSCACert = last
	case "tlscert":
		c.TLSCert = last
	case "tlskey":
		c.TLSKey = last
	case "icc":
		c.ICC = b()
	case "iptables":
		c.IPTables = b()
	case "userland-proxy":
		c.UserlandProxy = b()
	case "live-restore":
		c.LiveRestore = b()
	case "no-new-privileges":
		c.NoNewPrivileges = b()
	case "experimental":
		c.Experimental = b()
	case "selinux-enabled":
		c.SELinuxEnabled = b()
	case "debug":
		c.Debug = b()
	case "rootless":
		c.Rootless = b()
	case "log-level":
		c.LogLevel = last
	case "insecure-registries":
		c.InsecureRegistries = slices.Clone(fv.values)
	case "registry-mirrors":
		c.RegistryMirrors = slices.Clone(fv.values)
	case "storage-driver":
		c.StorageDriver = last
	case "storage-opts":
		c.StorageOpts = slices.Clone(fv.values)
	case "default-ulimits":
		c.DefaultUlimits = map[string]string{}
		for _, v := range fv.values {
			name, limits, _ := strings.Cut(v, "=")
			c.DefaultUlimits[name] = limits
		}
	case "userns-remap":
		c.UsernsRemap = last
	case "cgroup-parent":
		c.CgroupParent = last
	case "authorization-plugins":
		c.AuthorizationPlugins = slices.Clone(fv.values)
	case "log-driver":
		c.LogDriver = last
	case "log-opts":
		c.LogOpts = map[string]string{}
		for _, v := range fv.values {
			k, val, _ := strings.Cut(v, "=")
			c.LogOpts[k] = val
		}
	case "seccomp-profile":
		c.SeccompProfile = last
	case "bridge":
		c.Bridge = last
	case "data-root":
		c.DataRoot = last
	case "containerd":
		c.Containerd = last
	case "default-cgroupns-mode":
		c.DefaultCgroupnsMode = last
	case "group":
		c.Group = last
	case "config-file":
		c.ConfigFile = last
	}
}

// isTrue reports whether an optional boolean is set and true; def is
// dockerd's default when it is unset.
func isTrue(b *bool, def bool) bool {
	if b == nil {
		return def
	}
	return *b
}
