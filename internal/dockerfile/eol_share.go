package dockerfile

import "time"

// EndOfLife reports whether a release of a distribution or official image
// ("debian" "10", "alpine" "3.16.2", "ubuntu" "22.10") is past its end of
// life at now, with a name for messages and the date. The image audit asks
// it about /etc/os-release, so both surfaces read the dates from one table.
func EndOfLife(name, version string, now time.Time) (what, date string, ok bool) {
	e, ok := endOfLife(name, version, now)
	return e.what, e.eol, ok
}
