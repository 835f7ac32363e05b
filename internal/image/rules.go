package image

import (
	"slices"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/rule"
)

// rules are the image rules, sorted by ID: what only an image shows (its
// configuration, files, layers, sizes and account files). The image's
// history is judged by the Dockerfile rules (history.go).
var rules = []*Rule{
	ruleRootUser,          // DV2001
	ruleUnknownUser,       // DV2002
	ruleEnvSecret,         // DV2003
	ruleLabelSecret,       // DV2004
	ruleExposeShell,       // DV2006
	ruleExposeDocker,      // DV2007
	ruleExposeDB,          // DV2008
	ruleExposeAdmin,       // DV2009
	ruleNoHealthcheck,     // DV2010
	ruleStale,             // DV2011
	ruleUntrusted,         // DV2014
	ruleSetuid,            // DV2020
	ruleWorldWritable,     // DV2021
	ruleCredentialFile,    // DV2022
	ruleDeletedCredential, // DV2023
	ruleCaches,            // DV2024
	ruleBuildTools,        // DV2025
	ruleFetchTools,        // DV2026
	ruleWasted,            // DV2027
	ruleLarge,             // DV2028
	ruleSecretScanCapped,  // DV2029
	ruleEmptyPassword,     // DV2030
	ruleDuplicateIDs,      // DV2031
	ruleExtraRoot,         // DV2032
	ruleEOL,               // DV2033
	rulePasswordHash,      // DV2034
	ruleSudoers,           // DV2035
	ruleEscape,            // DV2040
	ruleDevices,           // DV2041
}

var surfaces = []finding.Surface{finding.SurfaceImage}

// Rules returns the image rules, sorted by ID.
func Rules() []*Rule { return slices.Clone(rules) }

// Catalog returns the metadata of the image rules.
func Catalog() []finding.Rule { return rule.Catalog(surfaces, rules) }
