package inventory

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	rpmdb "github.com/knqyf263/go-rpmdb/pkg"
	// go-rpmdb reads rpmdb.sqlite through database/sql and needs a driver
	// registered as "sqlite"; modernc's is pure Go.
	_ "modernc.org/sqlite"
)

// RPM reads rpm databases in all three formats rpm has used: Berkeley DB
// (Packages, RHEL/CentOS 7 and older), ndb (Packages.db, SUSE) and sqlite
// (rpmdb.sqlite, RHEL 9, Fedora), with github.com/knqyf263/go-rpmdb.
type RPM struct{}

// rpmDBFiles are the databases' paths: rpm moved from /var/lib/rpm to
// /usr/lib/sysimage/rpm.
var rpmDBFiles = map[string]bool{
	"var/lib/rpm/Packages":              true,
	"var/lib/rpm/Packages.db":           true,
	"var/lib/rpm/rpmdb.sqlite":          true,
	"usr/lib/sysimage/rpm/Packages":     true,
	"usr/lib/sysimage/rpm/Packages.db":  true,
	"usr/lib/sysimage/rpm/rpmdb.sqlite": true,
}

// Name implements Extractor.
func (RPM) Name() string { return "rpm" }

// Required implements Extractor.
func (RPM) Required(p string, mode fs.FileMode, size int64) bool {
	return mode.IsRegular() && size > 0 && rpmDBFiles[p]
}

// Extract implements Extractor. go-rpmdb opens databases by path only, so
// the stream is copied (at most maxRPMDBSize bytes) into an anonymous
// in-memory file (memfd) and opened as /proc/self/fd/N: nothing of the
// image is written to a disk. SQLite resolves symbolic links in the path
// it opens, and /proc/self/fd/N leads to "/memfd:… (deleted)", where it
// would create an empty database instead; an rpmdb.sqlite therefore goes to
// a private temporary directory (mode 0700, removed at once), where SQLite
// can also keep the write-ahead log a WAL-mode database needs. So does
// every database where memfd is not available (off Linux).
func (RPM) Extract(ctx context.Context, in Input) ([]Package, error) {
	if in.Size > maxRPMDBSize {
		return nil, fmt.Errorf("%w (%d bytes, limit %d)", errTooLarge, in.Size, maxRPMDBSize)
	}
	br := bufio.NewReader(io.LimitReader(in.Reader, maxRPMDBSize+1))
	head, _ := br.Peek(len(sqliteMagic))
	var (
		path    string
		cleanup func()
		n       int64
		err     error
	)
	if !bytes.Equal(head, sqliteMagic) {
		path, cleanup, n, err = memFile("rpmdb", br)
	}
	if path == "" && err == nil {
		path, cleanup, n, err = tempFile(br)
	}
	if err != nil {
		return nil, err
	}
	defer cleanup()
	if n > maxRPMDBSize {
		return nil, fmt.Errorf("%w (limit %d bytes)", errTooLarge, maxRPMDBSize)
	}
	return readRPMDB(path)
}

// sqliteMagic starts every SQLite database file.
var sqliteMagic = []byte("SQLite format 3\x00")

// tempFile copies r into a file of its own private temporary directory.
func tempFile(r io.Reader) (path string, cleanup func(), n int64, err error) {
	dir, err := os.MkdirTemp("", "dockvet-rpmdb-")
	if err != nil {
		return "", nil, 0, err
	}
	cleanup = func() { os.RemoveAll(dir) }
	path = filepath.Join(dir, "rpmdb")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err == nil {
		n, err = io.Copy(f, r)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		cleanup()
		return "", nil, 0, err
	}
	return path, cleanup, n, nil
}

// readRPMDB lists the packages of the rpm database at path. go-rpmdb
// reads untrusted bytes; a panic inside it becomes an error here so that
// one corrupt database cannot stop an inventory.
func readRPMDB(path string) (pkgs []Package, err error) {
	defer func() {
		if r := recover(); r != nil {
			pkgs, err = nil, fmt.Errorf("corrupt rpm database: %v", r)
		}
	}()
	if err := checkRPMDBFile(path); err != nil {
		return nil, err
	}
	if err := checkHeaders(path); err != nil {
		return nil, fmt.Errorf("corrupt rpm database: %v", err)
	}
	db, err := rpmdb.Open(path)
	if err != nil {
		return nil, fmt.Errorf("not a readable rpm database: %v", err)
	}
	defer db.Close()
	list, err := db.ListPackages()
	if err != nil {
		return nil, fmt.Errorf("reading rpm database: %v", err)
	}
	for _, ip := range list {
		if ip.Name == "" || ip.Version == "" || ip.Name == "gpg-pubkey" {
			// gpg-pubkey entries are imported signing keys, not software.
			continue
		}
		p := Package{Type: TypeRPM, Name: ip.Name, Arch: ip.Arch}
		evr := ip.Version
		if ip.Release != "" {
			evr += "-" + ip.Release
		}
		if ip.Epoch != nil && *ip.Epoch > 0 {
			p.Epoch = *ip.Epoch
			evr = strconv.Itoa(*ip.Epoch) + ":" + evr
		}
		p.Version = evr
		if ip.License != "" {
			p.Licenses = []string{ip.License}
		}
		if sn, sv, ok := splitSourceRPM(ip.SourceRpm); ok {
			if p.Epoch > 0 {
				sv = strconv.Itoa(p.Epoch) + ":" + sv
			}
			if sn != p.Name {
				p.SourceName = sn
			}
			if sv != p.Version {
				p.SourceVersion = sv
			}
		}
		pkgs = append(pkgs, p)
	}
	return pkgs, nil
}

// splitSourceRPM splits "openssl-3.0.7-24.el9.src.rpm" into "openssl" and
// "3.0.7-24.el9". Names may contain dashes; version and release may not.
func splitSourceRPM(s string) (name, version string, ok bool) {
	s = strings.TrimSuffix(strings.TrimSuffix(s, ".rpm"), ".src")
	s = strings.TrimSuffix(s, ".nosrc")
	i := strings.LastIndexByte(s, '-')
	if i <= 0 {
		return "", "", false
	}
	j := strings.LastIndexByte(s[:i], '-')
	if j <= 0 {
		return "", "", false
	}
	return s[:j], s[j+1:], true
}
