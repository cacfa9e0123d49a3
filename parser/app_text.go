package parser

// What an application's own words say about a failure, whatever the
// language: the markers below are the ones runtimes and client libraries
// print (errno names and numbers first, because texts differ between C
// libraries and versions; see issue 2, item 6).

import (
	"bytes"
	"errors"
	"strings"
)

var errEmptyLine = errors.New("empty line")

// markers are matched in order; the first hit decides the class.
var (
	oomMarkers = [...]string{"JavaScript heap out of memory", "OutOfMemoryError", "MemoryError",
		"runtime: out of memory", "fatal error: out of memory", "Allowed memory size of",
		"failed to reserve page summary memory", "Out of memory (allocated", "memory allocation of "}
	listenMarkers = [...]string{"EADDRINUSE", "ddress already in use", "BindException", "unable to bind",
		"[Errno 98]", "is in use by another program", "Connection in use", "bind(): ", "kind: AddrInUse"}
	// poolMarkers are the application's own capacity running out: a client
	// pool whose every connection is busy (the caller waited its checkout
	// timeout), or the process out of file descriptors. The dependency
	// behind the pool answered; the limit is the app's (pool_saturated).
	// Checked before the timeout markers: SQLAlchemy raises a TimeoutError.
	poolMarkers = [...]string{
		"QueuePool limit of size",                              // SQLAlchemy exc.TimeoutError (pool/impl.py)
		"timeout exceeded when trying to connect",              // node-postgres pg-pool: waited for a client (index.js, pending queue only)
		"Connection is not available, request timed out after", // HikariCP
		"Timeout acquiring a connection",                       // knex ("The pool is probably full")
		"connection pool exhausted",                            // psycopg2.pool.PoolError
		"ConnectionAcquireTimeoutError",                        // Sequelize
		"pool timed out while waiting for an open connection",  // sqlx PoolTimedOut
		"Timeout waiting for idle object",                      // Apache Commons Pool / DBCP
		"too many open files", "Too many open files", "EMFILE", // EMFILE: Go "accept4: too many open files", Python "[Errno 24]", Node
	}
	// rejectMarkers are a dependency's server refusing service: it is up and
	// answered, with an error instead of a session (dependency_refused).
	rejectMarkers = [...]string{
		"too many clients already",                            // PostgreSQL 53300 ("sorry, too many clients already")
		"remaining connection slots are reserved",             // PostgreSQL 53300, the reserved superuser slots
		"the database system is shutting down",                // PostgreSQL 57P03
		"the database system is starting up",                  // PostgreSQL 57P03
		"the database system is in recovery mode",             // PostgreSQL 57P03
		"terminating connection due to administrator command", // PostgreSQL 57P01 (a fast shutdown)
		"Too many connections",                                // MySQL/MariaDB ER_CON_COUNT_ERROR (1040)
		"max number of clients reached",                       // Redis maxclients
	}
	// tlsMarkers are a client library rejecting a dependency's certificate
	// (or handshake): the dependency could not be used, as if it refused
	// (dependency_refused; the taxonomy has no class of its own for it yet).
	tlsMarkers = [...]string{
		"tls: failed to verify certificate", "x509: certificate", // Go crypto/tls
		"CERTIFICATE_VERIFY_FAILED", "certificate verify failed", // Python ssl, OpenSSL
		"unable to verify the first certificate", "UNABLE_TO_VERIFY_LEAF_SIGNATURE", "CERT_HAS_EXPIRED",
		"DEPTH_ZERO_SELF_SIGNED_CERT", "SELF_SIGNED_CERT_IN_CHAIN", "ERR_TLS_CERT_ALTNAME_INVALID", // Node
		"PKIX path building failed", "SSLHandshakeException", // Java
	}
	refusedMarkers = [...]string{"ECONNREFUSED", "onnection refused", "[Errno 111]", "errno=111",
		"(111: Connection refused)", "ConnectException", "Connection to "}
	timeoutMarkers = [...]string{"ETIMEDOUT", "i/o timeout", "onnect timed out", "onnection timed out",
		"[Errno 110]", "TimeoutError", "SocketTimeoutException", "ConnectTimeout", "context deadline exceeded",
		"urlopen error timed out", "socket.timeout", "ESOCKETTIMEDOUT", "Operation timed out",
		"Connection terminated due to connection timeout", // node-postgres: connectionTimeoutMillis while connecting
		// The database answered in time with a cancellation: the query waited
		// past the session's limit (for a lock, or working).
		"canceling statement due to statement timeout", // PostgreSQL 57014
		"canceling statement due to lock timeout",      // PostgreSQL 55P03
		"Lock wait timeout exceeded",                   // MySQL/MariaDB 1205
		"maximum statement execution time exceeded"}    // MySQL 3024
	// sessionMarkers are PHP's session module failing to use its save
	// handler (ext/session/session.c: "Failed to read session data: %s
	// (path: %s)", "Failed to create session ID: %s (path: %s)"; php-src's
	// ext/session/tests/016.phpt shows the first). With a network store
	// (memcached, redis) the path is the store's address: a dependency the
	// page could not use. A files handler's path is a directory: not one.
	sessionMarkers = [...]string{"Failed to read session data: ", "Failed to create session ID: "}
	crashMarkers   = [...]string{"uncaughtException", "Uncaught ", "unhandledRejection", "UnhandledPromiseRejection",
		"Segmentation fault", "core dumped", "[nodemon] app crashed", " panicked at "}
	startMarkers = [...]string{"istening on", "istening at", "Running on http", "running on http", "unning at http",
		"erver started on", "Now listening on", "Tomcat started on port", "started on port", "istening to port"}
	// stopMarkers are an application saying it is going away on purpose: a
	// deploy or a supervisor's stop, not a failure.
	stopMarkers = [...]string{"received SIGTERM", "SIGTERM received", "SIGTERM signal received", "received SIGINT", "SIGINT received",
		"hutting down", "raceful shutdown", "racefully shutting", "racefully stopping", "topping server"}
)

// bigrams is a 4096-bit set of the byte pairs of a text. Most application
// lines hold none of the markers; checking a marker's pairs against the set
// rejects it without scanning the line, so a line is read once instead of
// once per marker (the scans were most of the generic app path's cost).
type bigrams [64]uint64

func bigramHash(a, b byte) uint { return (uint(a)<<5 ^ uint(b)) & 4095 }

func (s *bigrams) fill(text []byte) {
	*s = bigrams{}
	for i := 0; i+1 < len(text); i++ {
		h := bigramHash(text[i], text[i+1])
		s[h>>6] |= 1 << (h & 63)
	}
}

// of fills s from text and returns it, for one-expression use.
func (s *bigrams) of(text []byte) *bigrams {
	s.fill(text)
	return s
}

// mayContain is false only when text cannot contain m.
func (s *bigrams) mayContain(m string) bool {
	for i := 0; i+1 < len(m); i++ {
		h := bigramHash(m[i], m[i+1])
		if s[h>>6]&(1<<(h&63)) == 0 {
			return false
		}
	}
	return true
}

func indexAny(set *bigrams, b []byte, markers []string) (int, string) {
	for _, m := range markers {
		if !set.mayContain(m) {
			continue
		}
		if i := indexStr(b, m); i >= 0 {
			return i, m
		}
	}
	return -1, ""
}

// classifyText sets Class (and Dependency, Upstream, MemoryKB where the text
// has them) from the words of text, which may be a multi-line group. It
// leaves Kind, Time and Message to the caller.
func classifyText(text []byte, ev *Event) {
	var set bigrams
	set.fill(text)
	if _, m := indexAny(&set, text, oomMarkers[:]); m != "" {
		ev.Class = ClassRuntimeOOM
		ev.MemoryKB = memoryFigureKB(text)
		return
	}
	if i, m := indexAny(&set, text, listenMarkers[:]); m != "" {
		// "Connection to host:port refused" (JDBC) is a dependency, and a
		// gunicorn "Connection in use" a listen address: the marker decides.
		ev.Class = ClassListenError
		ev.Upstream = hostPortFrom(text, i)
		if ev.Upstream == "" && contains(text, "('") {
			// Python servers print the address as a tuple: ('0.0.0.0', 8000).
			ev.Upstream = pythonAddrTuple(text)
		}
		if ev.Upstream == "" {
			ev.Upstream = portOnly(text)
		}
		return
	}
	if i, m := indexAny(&set, text, poolMarkers[:]); m != "" {
		ev.Class = ClassPoolSaturated
		if j := indexStr(text, "accept tcp "); j >= 0 && j < i {
			// Go's accept loop names the listener it could not accept on:
			// "http: Accept error: accept tcp 127.0.0.1:8080: accept4: ...".
			ev.Upstream = findHostPort(text[j:i])
		}
		return
	}
	if c := balancerClass(text); c != "" {
		// A load balancer between the proxy and the app reporting its own
		// servers: the next hop of the proxy chain is down, which is no
		// dependency of an application.
		ev.Class = c
		return
	}
	if i, m := indexAny(&set, text, refusedMarkers[:]); m != "" && (m != "Connection to " || contains(text[i:], " refused")) {
		ev.Class = ClassDependencyRefused
		ev.Dependency = dependencyAddr(text, i)
		return
	}
	if i, m := indexAny(&set, text, rejectMarkers[:]); m != "" {
		ev.Class = ClassDependencyRefused
		ev.Dependency = dependencyAddr(text, i)
		return
	}
	if i, m := indexAny(&set, text, tlsMarkers[:]); m != "" && !contains(text, "TLS handshake error from ") {
		// (Go's server logging a client it rejected, "http: TLS handshake
		// error from ADDR: ...", is no dependency of this process.)
		ev.Class = ClassDependencyRefused
		ev.Dependency = dependencyAddr(text, i)
		return
	}
	if i, m := indexAny(&set, text, timeoutMarkers[:]); m != "" {
		ev.Class = ClassDependencyTimeout
		ev.Dependency = dependencyAddr(text, i)
		return
	}
	if i, m := indexAny(&set, text, sessionMarkers[:]); m != "" {
		// Before the crash markers: PHP 8 throws it as an uncaught Error.
		if dep := sessionStoreAddr(text[i+len(m):]); dep != "" {
			ev.Class = ClassDependencyRefused
			ev.Dependency = dep
			return
		}
	}
	if _, m := indexAny(&set, text, crashMarkers[:]); m != "" {
		ev.Class = ClassCrash
		return
	}
	if i, m := indexAny(&set, text, startMarkers[:]); m != "" {
		ev.Class = ClassStart
		ev.Upstream = hostPortFrom(text, i)
		if ev.Upstream == "" {
			ev.Upstream = portOnly(text[i:])
		}
		return
	}
	if _, m := indexAny(&set, text, stopMarkers[:]); m != "" {
		ev.Class = ClassStop
		switch {
		case contains(text, "SIGTERM"):
			ev.Signal = "SIGTERM"
		case contains(text, "SIGINT"):
			ev.Signal = "SIGINT"
		}
		return
	}
	ev.Class = ClassOther
}

// balancerClass reads HAProxy's health-check and routing alerts (src/server.c
// "Server %s/%s is DOWN, reason: ...", src/backend.c "backend %s has no server
// available!"), which HAProxy writes to its log and, in the foreground, to
// stderr as "[WARNING]  (pid) : ..." / "[ALERT]    (pid) : ...". A server
// marked DOWN is the balancer's server refusing or failing its checks
// (upstream_refused); a backend without any server left answers 503 itself
// (no_live_upstreams, as nginx's "no live upstreams").
func balancerClass(text []byte) Class {
	line := firstLine(text)
	if i := indexStr(line, "Server "); i >= 0 {
		rest := line[i+len("Server "):]
		if j := indexStr(rest, " is DOWN"); j > 0 && bytes.IndexByte(rest[:j], '/') > 0 && bytes.IndexByte(rest[:j], ' ') < 0 {
			return ClassUpstreamRefused
		}
	}
	if i := indexStr(line, "backend "); i >= 0 && hasSuffix(trimSpace(line), " has no server available!") {
		return ClassNoLiveUpstreams
	}
	return ""
}

// sessionStoreAddr returns the first host:port of a PHP session warning's
// "(path: ...)" (session.save_path: "host:port[,host:port]" for memcached,
// "tcp://host:port?..." for redis), or "" when the path is a directory.
func sessionStoreAddr(text []byte) string {
	i := indexStr(firstLine(text), "(path: ")
	if i < 0 {
		return ""
	}
	path := text[i+len("(path: "):]
	if j := indexStr(path, ")"); j >= 0 {
		path = path[:j]
	}
	if len(path) == 0 || path[0] == '/' || path[0] == '.' {
		return "" // the files handler's directory
	}
	if j := indexStr(path, "://"); j >= 0 {
		path = path[j+3:]
	}
	return findHostPort(path)
}

// portOnly reads "port N" / "Port N" as ":N" for lines that name no host
// ("listening on port 3000", flask's "Port 5000 is in use").
func portOnly(text []byte) string {
	for _, key := range [...]string{"port ", "Port ", "port: ", "PORT "} {
		if port, ok := intAfter(text, key); ok && port > 0 && port < 65536 {
			return ":" + itoa(port)
		}
	}
	return ""
}

func itoa(v int64) string {
	var buf [20]byte
	i := len(buf)
	neg := v < 0
	if neg {
		v = -v
	}
	for {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	if neg {
		i--
		buf[i] = '-'
	}
	return string(buf[i:])
}

// memoryFigureKB finds a memory figure in an out-of-memory text: PHP's
// "Allowed memory size of N bytes", Go's "(N in use)".
func memoryFigureKB(text []byte) int64 {
	if v, ok := intAfter(text, "Allowed memory size of"); ok && v > 0 {
		return v / 1024
	}
	if i := indexStr(text, " in use)"); i > 0 {
		j := i
		for j > 0 && isDigit(text[j-1]) {
			j--
		}
		if v, n := atoiPrefix(text[j:i]); n > 0 && j > 0 && text[j-1] == '(' {
			return v / 1024
		}
	}
	return Absent
}

// dependencyAddr finds the address a failed connection was for. Libraries
// put it in different places: Node and Go next to the error ("connect
// ECONNREFUSED 127.0.0.1:5432", "dial tcp 127.0.0.1:5432: connect: ..."),
// requests/urllib3 as "host='h', port=N", libpq as `host "h" (ip) ...
// port N` or `server at "h" (ip), port N`, Node's error object as
// "address: 'ip'" and "port: N" lines.
func dependencyAddr(text []byte, at int) string {
	if h, ok := quotedAfter(text, "host='"); ok {
		if port, ok := intAfter(text, "port="); ok {
			return h + ":" + itoa(port)
		}
	}
	if i := indexStr(text, "server at \""); i >= 0 {
		if a := libpqAddr(text[i+len("server at "):]); a != "" {
			return a
		}
	}
	if i := indexStr(text, "on host \""); i >= 0 {
		if a := libpqAddr(text[i+len("on host "):]); a != "" {
			return a
		}
	}
	if a := hostPortFrom(text, at); a != "" {
		return a
	}
	if at >= 0 && at < len(text) {
		// Python's asyncio (and so asyncpg, aiohttp, redis.asyncio) prints
		// the address as a tuple: "Connect call failed ('127.0.0.1', 5432)".
		line := firstLine(text[at:])
		if i := indexStr(line, "('"); i >= 0 {
			if a := pythonAddrTuple(line[i:]); a != "" {
				return a
			}
		}
	}
	if h, ok := quotedAfter(text, "address: '"); ok {
		if port, ok := intAfter(text, "port: "); ok {
			return joinHostPort(h, port)
		}
	}
	return ""
}

// libpqAddr reads `"name" (ip) and accepting ... port N` or `"name" (ip),
// port N`, preferring the IP the client actually dialled.
func libpqAddr(b []byte) string {
	name, ok := quotedAfter(b, "\"")
	if !ok {
		return ""
	}
	host := name
	rest := b[len(name)+2:]
	if i := bytes.IndexByte(rest, '('); i >= 0 && i < 3 {
		if j := bytes.IndexByte(rest[i:], ')'); j > 0 {
			host = aliasStr(rest[i+1 : i+j])
		}
	}
	port, ok := intAfter(rest, "port ")
	if !ok {
		return ""
	}
	return joinHostPort(host, port)
}

func joinHostPort(host string, port int64) string {
	if bytes.IndexByte([]byte(host), ':') >= 0 {
		return "[" + host + "]:" + itoa(port)
	}
	return host + ":" + itoa(port)
}

// quotedAfter returns the text between key (which ends with the opening
// quote) and the same quote character.
func quotedAfter(b []byte, key string) (string, bool) {
	i := indexStr(b, key)
	if i < 0 {
		return "", false
	}
	q := key[len(key)-1]
	rest := b[i+len(key):]
	j := bytes.IndexByte(rest, q)
	if j <= 0 || j > 255 {
		return "", false
	}
	return aliasStr(rest[:j]), true
}

// hostPortFrom returns the first host:port in text at or after from, or
// before it on the same line when nothing follows.
func hostPortFrom(text []byte, from int) string {
	if from < 0 || from > len(text) {
		from = 0
	}
	if a := findHostPort(text[from:]); a != "" {
		return a
	}
	start := bytes.LastIndexByte(text[:from], '\n') + 1
	return findHostPort(text[start:from])
}

// sourceSuffixes mark "file:line" references, which look like host:port.
var sourceSuffixes = [...]string{".js", ".mjs", ".cjs", ".ts", ".go", ".java", ".py", ".rb", ".php", ".c",
	".h", ".s", ".kt", ".scala", ".cs", ".rs", ".jsx", ".tsx", ".cc", ".cpp", ".pyx"}

// findHostPort finds the first "host:port" token in b: a name or IPv4
// address, a bracketed IPv6 address, or ":::port" (Node's wildcard), with a
// port of 1-5 digits not followed by another ':' or digit (so clock times
// and file:line:column references are skipped).
func findHostPort(b []byte) string {
	for i := 0; i < len(b); i++ {
		if b[i] != ':' || i+1 >= len(b) || !isDigit(b[i+1]) {
			continue
		}
		port, n := atoiPrefix(b[i+1:])
		end := i + 1 + n
		// A digit after ':' or '.' continues a clock time, a version or a
		// file:line:column; Go's "dial tcp 10.0.0.5:5432: connect" is fine.
		next2 := end+1 < len(b) && isDigit(b[end+1])
		if n > 5 || port == 0 || port > 65535 || (end < len(b) && ((b[end] == ':' || b[end] == '.') && next2 || isDigit(b[end]))) {
			continue
		}
		// Node prints the IPv6 wildcard as ":::3000".
		if i >= 2 && b[i-1] == ':' && b[i-2] == ':' {
			return "[::]:" + aliasStr(b[i+1:end])
		}
		if i > 0 && b[i-1] == ']' {
			if j := bytes.LastIndexByte(b[:i], '['); j >= 0 {
				return aliasStr(b[j:end])
			}
			continue
		}
		// Host names are at most 253 bytes: bounding the walk back keeps a
		// line full of "x.js:1x.js:1..." linear.
		j := i
		for j > 0 && i-j < 256 && hostByte(b[j-1]) {
			j--
		}
		host := b[j:i]
		if !plausibleHost(host) {
			continue
		}
		return aliasStr(b[j:end])
	}
	return ""
}

func hostByte(c byte) bool {
	return c == '.' || c == '-' || c == '_' || isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'z')
}

func plausibleHost(h []byte) bool {
	if len(h) == 0 || h[0] == '.' || h[0] == '-' {
		return false
	}
	letterOrDot := false
	for _, c := range h {
		if c == '.' || !isDigit(c) {
			letterOrDot = true
		}
	}
	if !letterOrDot {
		return false
	}
	switch string(h) {
	case "node", "http", "https", "tcp", "udp", "unix", "file", "line", "pid", "port", "errno", "code":
		return false
	}
	for _, s := range sourceSuffixes {
		if hasSuffix(h, s) {
			return false
		}
	}
	return true
}

// fastcgiStderr is how nginx relays what a FastCGI application wrote to its
// stderr (ngx_http_fastcgi_module: "FastCGI sent in stderr: \"%*s\""); PHP
// sends its messages there when php.ini's error_log is unset, the default.
const fastcgiStderr = "FastCGI sent in stderr: \""

// UpstreamStderr returns the application's own words that a proxy error
// message relays (nginx's `FastCGI sent in stderr: "..."`), without the
// quotes and nginx's trailing context; ok is false for any other message.
func UpstreamStderr(msg string) (text string, ok bool) {
	i := strings.Index(msg, fastcgiStderr)
	if i < 0 {
		return "", false
	}
	text = msg[i+len(fastcgiStderr):]
	if j := strings.LastIndex(text, "\" while "); j >= 0 {
		text = text[:j]
	} else {
		text = strings.TrimSuffix(text, "\"")
	}
	return text, text != ""
}

// ClassifyUpstreamText classifies what an application said (a relayed
// stderr message, a line read elsewhere) as its own log line would be: the
// upstream_event class and the dependency it names.
func ClassifyUpstreamText(text string) (Class, string) {
	var ev Event
	ev.Reset()
	classifyText([]byte(text), &ev)
	return ev.Class, ev.Dependency
}
