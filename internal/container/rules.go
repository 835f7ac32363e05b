package container

import (
	"slices"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/rule"
)

// surfaces are where container rules apply unless a rule says otherwise:
// `docker run` lines and live containers (container) and Compose services.
var surfaces = []finding.Surface{finding.SurfaceContainer, finding.SurfaceCompose}

// rules are the container rules, sorted by ID; Check runs them in this
// order.
var rules = []*Rule{
	rulePrivileged,      // DV3001
	ruleDangerousCap,    // DV3002
	ruleCapDrop,         // DV3003
	ruleNoNewPrivileges, // DV3004
	ruleSeccomp,         // DV3005
	ruleAppArmor,        // DV3006
	ruleSELinux,         // DV3007
	ruleSystemPaths,     // DV3008
	ruleReadOnly,        // DV3009
	ruleHostPID,         // DV3010
	ruleHostIPC,         // DV3011
	ruleHostUTS,         // DV3012
	ruleHostNetwork,     // DV3013
	ruleHostUserns,      // DV3014
	ruleHostCgroupns,    // DV3015
	rulePropagation,     // DV3016
	ruleDevices,         // DV3017
	ruleSocket,          // DV3020
	ruleDockerHostTCP,   // DV3021
	ruleSensitiveMount,  // DV3022
	ruleMemory,          // DV3030
	ruleCPU,             // DV3031
	rulePids,            // DV3032
	ruleUlimit,          // DV3033
	ruleRestartHealth,   // DV3034
	ruleRestartRetries,  // DV3035
	ruleCgroupParent,    // DV3036
	ruleSensitivePort,   // DV3040
	rulePrivilegedPort,  // DV3041
	rulePublishAll,      // DV3042
	ruleRootUser,        // DV3050
	ruleUserUnset,       // DV3051
	ruleEnvSecret,       // DV3060
	ruleUnset,           // DV3062
	ruleImageLatest,     // DV3070
	ruleImageDigest,     // DV3071
	ruleImageTrusted,    // DV3072
	rulePolicyDigest,    // DV3073
	ruleSysctl,          // DV3080
	ruleLogging,         // DV3090
}

// Rules returns every container rule, sorted by ID.
func Rules() []*Rule { return slices.Clone(rules) }

// Catalog returns the metadata of every container rule.
func Catalog() []finding.Rule { return rule.Catalog(surfaces, rules) }
