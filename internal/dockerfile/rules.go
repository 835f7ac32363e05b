package dockerfile

import (
	"slices"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/rule"
)

// rules are the Dockerfile rules, sorted by ID. A new rule is one value in
// a rules_*.go file, one line here, and its cases under testdata.
var rules = []*Rule{
	ruleNoUser,              // DV1001
	ruleRootUser,            // DV1002
	ruleSudo,                // DV1003
	ruleSu,                  // DV1004
	ruleUserName,            // DV1005
	ruleLatest,              // DV1010
	ruleDigest,              // DV1011
	ruleTrusted,             // DV1012
	ruleEOL,                 // DV1013
	ruleFullBase,            // DV1014
	ruleSDKBase,             // DV1015
	rulePolicyDigest,        // DV1016
	ruleExposeSSH,           // DV1020
	ruleExposeDocker,        // DV1021
	ruleExposeDB,            // DV1022
	ruleExposeInvalid,       // DV1023
	ruleSSHServer,           // DV1024
	ruleRunNetworkHost,      // DV1025
	ruleExposeAdmin,         // DV1026
	ruleDockerHost,          // DV1030
	ruleSocket,              // DV1031
	ruleEnvSecret,           // DV1040
	ruleArgSecret,           // DV1041
	ruleSecretArgUsed,       // DV1042
	ruleLabelSecret,         // DV1043
	ruleCopyCredential,      // DV1044
	ruleInlineCredential,    // DV1045
	rulePersistedCredential, // DV1046
	ruleContextSecret,       // DV1047
	ruleWeakSecret,          // DV1048
	ruleNoRecommends,        // DV1050
	ruleAptLists,            // DV1051
	ruleApkCache,            // DV1052
	ruleYumCache,            // DV1053
	ruleDnfCache,            // DV1054
	ruleZypperCache,         // DV1055
	rulePipCache,            // DV1056
	ruleBuildTools,          // DV1057
	ruleCopyRoot,            // DV1058
	ruleNpmCache,            // DV1059
	rulePipeToShell,         // DV1070
	ruleNoChecksum,          // DV1071
	ruleAddURL,              // DV1072
	ruleTLSRun,              // DV1073
	ruleTLSEnv,              // DV1074
	ruleSignaturesOff,       // DV1075
	rulePlainIndex,          // DV1076
	ruleWorldWritable,       // DV1080
	ruleSetuid,              // DV1081
	ruleSetcap,              // DV1082
	ruleInsecureRun,         // DV1083
	ruleVolumeKernel,        // DV1085
	ruleMaintainer,          // DV1090
	ruleNoHealthcheck,       // DV1091
	ruleDupHealth,           // DV1092
	ruleDupCmd,              // DV1093
	ruleDupEntrypoint,       // DV1094
	ruleShellForm,           // DV1095
	ruleRelativeWorkdir,     // DV1096
	ruleSystemWorkdir,       // DV1097
	ruleCd,                  // DV1098
	ruleCopyFromSelf,        // DV1099
	ruleDupAlias,            // DV1100
	ruleCopyFromLater,       // DV1101
	ruleCopyDest,            // DV1102
	ruleReplaceSh,           // DV1103
	rulePipefail,            // DV1104
	ruleNpmCI,               // DV1105
	ruleUseraddUID,          // DV1106
	ruleAssumeYes,           // DV1107
	ruleApt,                 // DV1108
	ruleOSPin,               // DV1109
	ruleLangPin,             // DV1110
	ruleUpdateAlone,         // DV1111
	ruleUpgrade,             // DV1112
	ruleAddForCopy,          // DV1113
	ruleEnvSelfRef,          // DV1114
	ruleOnbuild,             // DV1115
	rulePointless,           // DV1116
	ruleRelativeCopyDest,    // DV1117
	ruleCurlAndWget,         // DV1118
	rulePlatform,            // DV1119
	ruleBudget,              // DV1120
	ruleScriptSyntax,        // DV1121
}

// surfaces are where a Dockerfile rule applies unless it says otherwise.
var surfaces = []finding.Surface{finding.SurfaceDockerfile}

// Rules returns every Dockerfile rule, sorted by ID.
func Rules() []*Rule { return slices.Clone(rules) }

// Catalog returns the metadata of every Dockerfile rule.
func Catalog() []finding.Rule { return rule.Catalog(surfaces, rules) }
