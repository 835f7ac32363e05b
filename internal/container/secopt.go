package container

import (
	"fmt"
	"strconv"
	"strings"
)

// ApplySecurityOpt records one `--security-opt` / `security_opt:` value
// ("no-new-privileges:true", "seccomp=unconfined", "label=disable", …) in
// sec. Every reader goes through it, so Compose, `docker run` and the
// Engine's HostConfig.SecurityOpt mean the same thing. The Docker CLI
// accepts both "key=value" and the older "key:value"; an option without
// either is an error, except the bare "no-new-privileges". Options the
// rules do not judge are accepted and ignored.
func ApplySecurityOpt(sec *Security, opt string, src Source) error {
	opt = strings.TrimSpace(opt)
	key, val, ok := cutOpt(opt)
	if !ok {
		if opt == "no-new-privileges" {
			sec.NoNewPrivileges = Of(true, src)
			return nil
		}
		return fmt.Errorf("invalid security option %q (want key=value)", opt)
	}
	switch key {
	case "no-new-privileges":
		b, err := strconv.ParseBool(val)
		if err != nil {
			return fmt.Errorf("invalid security option %q: %q is not a boolean", opt, val)
		}
		sec.NoNewPrivileges = Of(b, src)
	case "seccomp":
		sec.Seccomp = Of(val, src)
	case "apparmor":
		sec.AppArmor = Of(val, src)
	case "label":
		sec.SELinux = append(sec.SELinux, Of(val, src))
	case "systempaths":
		sec.SystemPaths = Of(val, src)
	case "unmask":
		// Podman's unmask=ALL lifts the masking of every /proc and /sys
		// path, as systempaths=unconfined does in Docker.
		if strings.EqualFold(val, "ALL") {
			sec.SystemPaths = Of("unconfined", src)
		}
	}
	return nil
}

// cutOpt splits "key=value" or the legacy "key:value". A label value has
// colons of its own ("label=type:svirt_t"), so "=" wins when present.
func cutOpt(opt string) (key, val string, ok bool) {
	if k, v, found := strings.Cut(opt, "="); found {
		return strings.TrimSpace(k), strings.TrimSpace(v), true
	}
	if k, v, found := strings.Cut(opt, ":"); found {
		return strings.TrimSpace(k), strings.TrimSpace(v), true
	}
	return "", "", false
}
