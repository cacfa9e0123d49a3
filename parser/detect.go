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
	if looksLikeAccess(line) {
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

// systemdInKmsg reports whether a kernel ring buffer message was written by
// systemd itself ("systemd[1]: app.service: ..."), not by the kernel about
// systemd ("systemd[1]: segfault at ...").
func systemdInKmsg(msg []byte) bool {
	return hasSystemdTag(msg) && !bytes.Contains(msg, []byte("]: segfault at ")) && !bytes.Contains(msg, []byte("]: trap "))
}
