//go:build race

package secrets

// raceEnabled: TestKeywordDensity counts work and skips itself under the
// race detector, which only slows it (see there).
const raceEnabled = true
