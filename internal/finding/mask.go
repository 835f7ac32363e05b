package finding

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"unicode/utf8"
)

// Mask hides a secret for display: at most its first four characters, then
// "****". Short secrets show less, because four characters of an eight
// character password are half of it.
func Mask(secret string) string {
	n := utf8.RuneCountInString(secret)
	keep := 0
	switch {
	case n >= 16:
		keep = 4
	case n >= 10:
		keep = 2
	}
	i := 0
	for pos := range secret {
		if i == keep {
			return secret[:pos] + "****"
		}
		i++
	}
	if keep == 0 {
		return "****"
	}
	return secret + "****"
}

// Fingerprint is a stable name for one secret value, so that an ignore entry
// can name it without containing it. A plain hash of a short password is
// cheap to reverse by guessing, and reports travel far (CI logs, SARIF
// uploads), so the hash is stretched with PBKDF2; the salt is the rule ID so
// the same bytes found by two rules are two fingerprints.
func Fingerprint(ruleID, secret string) string {
	k := fpKey{ruleID, sha256.Sum256([]byte(secret))}
	if fp, ok := fingerprints.Load(k); ok {
		return fp.(string)
	}
	key, err := pbkdf2.Key(sha256.New, secret, []byte("dockvet:"+ruleID), fingerprintRounds, 16)
	if err != nil { // only for out-of-range parameters, which are constants here
		panic(err)
	}
	fp := "fp:" + hex.EncodeToString(key)
	fingerprints.Store(k, fp)
	return fp
}

// fingerprintRounds makes a guess 1000 times dearer than a plain hash while a
// fingerprint still costs only a fraction of a millisecond.
const fingerprintRounds = 1000

// fingerprints remembers computed fingerprints: the same secret is often
// found in many places (every layer that copies a file, every service that
// shares an env file). Keyed by a plain hash so the map holds no secret.
var fingerprints sync.Map

type fpKey struct {
	rule string
	sum  [32]byte
}
