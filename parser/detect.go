package parser

import "bytes"

// detect names the source of one unwrapped line, for `--source auto`. The
// checks run cheapest and most common first: a proxy host's lines are almost
// all access lines, so those must be recognised on their first bytes.

// detect uses the line and the program tag of its envelope (syslog tag,
// journal identifier), which is the strongest hint when there is one.
func detect(group []byte, program string) Source {
	// Only application traces span lines, and the formats sniffed before
	// them are one-line formats: looking at the first line keeps a long
	// trace from being scanned by every sniffer.
	line := group
	if i := bytes.IndexByte(group, '\n'); i >= 0 {
		line = group[:i]
	}
	if looksLikeAccess(line) && !appLogLead(line) {
		return SourceNginxAccess
	}
	if looksLikeNginxError(line) {
		return SourceNginxError
	}
	switch program {
	case "kernel":
		// Userspace writes to /dev/kmsg too (systemd before journald runs).
		if systemdInKmsg(kernelMessage(line)) {
			return SourceSystemd
		}
		return SourceKernel
	case "systemd", "systemd-oomd", "init":
		return SourceSystemd
	case "dockerd", "docker", "containerd":
		return SourceDocker
	case "kubelet":
		return SourceKubernetes
	}
	switch {
	case looksLikeKernel(line):
		if systemdInKmsg(kernelMessage(line)) {
			return SourceSystemd
		}
		return SourceKernel
	case looksLikeSystemd(line):
		return SourceSystemd
	case looksLikeDocker(line):
		return SourceDocker
	case looksLikeKubernetes(line):
		return SourceKubernetes
	}
	if src := detectApp(group, program); src != "" {
		return src
	}
	return SourceApp
}

// appLogLead reports whether line opens the way an application logger
// writes, a level word first or right after the logger's own stamp:
// uvicorn's default "INFO:     127.0.0.1:50000 - \"GET / HTTP/1.1\" 200 OK",
// Python logging's "2026-11-25 19:49:21,359 INFO aiohttp.access 127.0.0.1
// \"GET ...\" 200". Application servers log their requests next to their
// errors in the same stream; those request lines look like an access log
// to the sniffer, but no nginx log_format puts a level word there. The
// first-byte test keeps access lines that start with an address cheap.
func appLogLead(line []byte) bool {
	if len(line) < 8 {
		return false
	}
	c := line[0]
	switch {
	case c >= 'A' && c <= 'Z':
		return levelWord(line) != ""
	case c == '[' || isDigit(c) && len(line) > 20 && line[4] == '-' && line[7] == '-':
		t, rest := leadingStamp(line, nil)
		return !t.IsZero() && levelWord(rest) != ""
	}
	return false
}

// systemdInKmsg reports whether a kernel ring buffer message was written by
// systemd itself ("systemd[1]: app.service: ..."), not by the kernel about
// systemd ("systemd[1]: segfault at ...").
func systemdInKmsg(msg []byte) bool {
	return hasSystemdTag(msg) && !bytes.Contains(msg, []byte("]: segfault at ")) && !bytes.Contains(msg, []byte("]: trap "))
}
