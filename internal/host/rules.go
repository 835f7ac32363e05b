package host

import (
	"slices"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/rule"
)

// rules are the host rules, by ID. Each is one benchmark row; the row's
// section comes from the rule's CIS ID (section).
var rules = []*Rule{
	// CIS 1: the host
	ruleDataPartition,
	ruleDockerGroup,
	ruleAuditDockerd,
	ruleAuditContainerdRun,
	ruleAuditDataRoot,
	ruleAuditEtcDocker,
	ruleAuditDockerService,
	ruleAuditContainerdSock,
	ruleAuditDockerSocket,
	ruleAuditDefaultDocker,
	ruleAuditDaemonJSON,
	ruleAuditContainerdConfig,
	ruleAuditSysconfigDocker,
	ruleAuditContainerd,
	ruleAuditShim,
	ruleAuditShimRuncV1,
	ruleAuditShimRuncV2,
	ruleAuditRunc,
	ruleHostHardening,
	ruleEngineEOL,
	// CIS 2: the daemon's configuration
	ruleDaemonRoot,
	ruleBridgeICC,
	ruleLogLevel,
	ruleIPTables,
	ruleInsecureRegistries,
	ruleAufs,
	ruleTCPWithoutTLS,
	ruleDefaultUlimits,
	ruleUserns,
	ruleCgroupParent,
	ruleBaseDeviceSize,
	ruleAuthzPlugin,
	ruleLocalLogs,
	ruleNewPrivileges,
	ruleLiveRestore,
	ruleUserlandProxy,
	ruleSeccompReview,
	ruleExperimental,
	// CIS 3: the daemon's files
	ruleDockerServiceOwner,
	ruleDockerServiceMode,
	ruleDockerSocketUnitOwner,
	ruleDockerSocketUnitMode,
	ruleEtcDockerOwner,
	ruleEtcDockerMode,
	ruleRegistryCertsOwner,
	ruleRegistryCertsMode,
	ruleTLSCAOwner,
	ruleTLSCAMode,
	ruleServerCertOwner,
	ruleServerCertMode,
	ruleServerKeyOwner,
	ruleServerKeyMode,
	ruleDockerSockOwner,
	ruleDockerSockMode,
	ruleDaemonJSONOwner,
	ruleDaemonJSONMode,
	ruleDefaultDockerOwner,
	ruleDefaultDockerMode,
	ruleSysconfigDockerMode,
	ruleSysconfigDockerOwner,
	ruleContainerdSockOwner,
	ruleContainerdSockMode,
	// CIS 4-6: images, runtime, operations
	ruleContentTrust,
	ruleSwarmMode,
	ruleSSHServer,
	rulePrivilegedExec,
	ruleRootExec,
	ruleDefaultBridge,
	ruleImageSprawl,
	ruleContainerSprawl,
	// CIS 7: Swarm
	ruleSwarmManagers,
	ruleSwarmListen,
	ruleOverlayEncryption,
	ruleSwarmSecrets,
	ruleSwarmAutolock,
	ruleUnlockKeyRotation,
	ruleNodeCertRotation,
	ruleSwarmCARotation,
	rulePlaneSeparation,
	// beyond CIS: versions, escapes, client configuration, registries
	ruleRuncEscape,
	ruleContainerdEscape,
	ruleEngineEscalation,
	ruleKernelEscape,
	ruleContainerdEOL,
	ruleTLSNoVerify,
	ruleSeccompOff,
	ruleNoLSM,
	ruleLogSize,
	rulePlaintextCredentials,
	ruleClientTCP,
	ruleDefaultCgroupns,
	ruleDistributionEOL,
	rulePlainMirror,
	ruleInsecureImage,
}

var surfaces = []finding.Surface{finding.SurfaceHost}

// Rules returns every host rule, by ID.
func Rules() []*Rule { return slices.Clone(rules) }

// Catalog returns the metadata of every host rule, sorted by ID.
func Catalog() []finding.Rule { return rule.Catalog(surfaces, rules) }
