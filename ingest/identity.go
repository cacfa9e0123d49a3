package ingest

import (
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"strconv"
	"syscall"
)

// fpMaxBytes is how much of a file's head identifies its content. Device and
// inode alone are not enough: inodes are reused as soon as a rotated file is
// deleted, and copytruncate keeps the inode while replacing the content.
const fpMaxBytes = 1024

// fileID is a file's identity: device, inode and a fingerprint of its first
// FPLen bytes (FPLen 0 while the file is empty). It is the file_id header and
// the registry key, so it must not change while the file is followed.
type fileID struct {
	Dev, Ino uint64
	FP       string
	FPLen    int
}

func (id fileID) String() string {
	return strconv.FormatUint(id.Dev, 10) + ":" + strconv.FormatUint(id.Ino, 10) + ":" + id.FP
}

func (id fileID) sameInode(dev, ino uint64) bool { return id.Dev == dev && id.Ino == ino }

// devIno returns the device and inode of fi.
func devIno(fi os.FileInfo) (uint64, uint64) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0
	}
	return uint64(st.Dev), st.Ino
}

// fingerprint hashes b (FNV-1a 64, enough to tell two log heads apart; not a
// defence against an adversary, who could write the log anyway).
func fingerprint(b []byte) string {
	h := fnv.New64a()
	h.Write(b)
	return fmt.Sprintf("%016x", h.Sum64())
}

// headFingerprint reads the first n bytes of f and hashes them; ok is false
// when the file is shorter than n (so it cannot be the fingerprinted file).
func headFingerprint(f *os.File, n int) (string, bool, error) {
	if n == 0 {
		return "", true, nil
	}
	buf := make([]byte, n)
	m, err := f.ReadAt(buf, 0)
	if err != nil && err != io.EOF {
		return "", false, err
	}
	if m < n {
		return "", false, nil
	}
	return fingerprint(buf), true, nil
}
