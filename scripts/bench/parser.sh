#!/usr/bin/env bash
# Parser throughput on a corpus real nginx wrote under load, against the floor
# of merely splitting the file into lines and against github.com/satyrius/gonx,
# all in this one run: median of 5 runs each, one core (GOMAXPROCS=1).
# The corpus is generated once under .bench/corpus (scripts/corpus/gen.sh);
# delete it to regenerate. BENCHTIME (default 1s) is per run.
# INSTRUCTIONS=1 (needs valgrind) also counts machine instructions per line of
# BenchmarkAccess and of the bufio floor with cachegrind: a figure that other
# work on a shared machine cannot move, for comparing two versions.
set -euo pipefail
cd "$(dirname "$0")/../.."
corpus=${CULPRIT_CORPUS:-$PWD/.bench/corpus}
benchtime=${BENCHTIME:-1s}
if [ ! -s "$corpus/access.log" ]; then
	echo "generating the corpus in $corpus (real nginx + wrk, about 10 s)"
	scripts/corpus/gen.sh "$corpus"
fi
export CULPRIT_CORPUS=$corpus
out=$(mktemp /tmp/culprit-bench.XXXXXX)
trap 'rm -f "$out"' EXIT

echo "corpus: $corpus/access.log: $(wc -l <"$corpus/access.log") lines, $(( $(stat -c %s "$corpus/access.log") / $(wc -l <"$corpus/access.log") )) bytes/line; error.log: $(wc -l <"$corpus/error.log") lines"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg), $(go version | cut -d' ' -f3)"
benches='^(BenchmarkSplitLines|BenchmarkAccess|BenchmarkAccessParser|BenchmarkNginxError)$'
go test ./parser/ -run '^$' -bench "$benches" -benchtime "$benchtime" -count 5 -cpu 1 | tee -a "$out" | grep -E '^(Benchmark|FAIL|---)' >&2 || true
(cd bench/gonx && go test -run '^$' -bench '^BenchmarkGonx$' -benchtime "$benchtime" -count 5 -cpu 1) | tee -a "$out" | grep -E '^(Benchmark|FAIL|---)' >&2 || true

if [ "${INSTRUCTIONS:-}" = 1 ] && command -v valgrind >/dev/null; then
	bin=$(mktemp /tmp/culprit-parser-test.XXXXXX)
	trap 'rm -f "$out" "$bin"' EXIT
	go test -c -o "$bin" ./parser/
	# Instructions of N lines = Ir(2N) - Ir(N): the set-up cancels out;
	# GOGC=off keeps a collection from landing in one run and not the other.
	ir() {
		(cd parser && GOGC=off valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
			"$bin" -test.run '^$' -test.bench "$1" -test.benchtime "$2x" -test.cpu 1 2>&1) |
			awk '/I *refs:/ { gsub(",", "", $NF); print $NF }'
	}
	n=100000
	for b in '^BenchmarkAccess$' '^BenchmarkSplitLines$/^bufio$'; do
		a=$(ir "$b" $n) c=$(ir "$b" $((2 * n)))
		echo "instructions per line, $b: $(((c - a) / n))" >&2
	done
fi

# Medians per benchmark. Rates are per CPU-second of the benchmark process
# (lines/cpu-s, from getrusage), so other work on a shared machine does not
# count against them; the wall-clock lines/s is shown for reference.
avg=$(( $(stat -c %s "$corpus/access.log") / $(wc -l <"$corpus/access.log") ))
awk -v avg="$avg" '
/^Benchmark/ {
	name = $1; sub(/^Benchmark/, "", name); sub(/-[0-9]+$/, "", name)
	for (i = 3; i < NF; i++) {
		if ($(i+1) == "ns/op") ns[name] = ns[name] " " $i
		if ($(i+1) == "MB/s") mb[name] = mb[name] " " $i
		if ($(i+1) == "lines/s") ws[name] = ws[name] " " $i
		if ($(i+1) == "lines/cpu-s") ls[name] = ls[name] " " $i
		if ($(i+1) == "allocs/op") al[name] = al[name] " " $i
	}
	if (!(name in seen)) { seen[name] = 1; order[++n] = name }
}
function median(s,   a, k, i, j, t) {
	k = split(s, a, " ")
	if (k == 0) return -1
	for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
	return (k % 2) ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
}
END {
	printf "\n%-22s %14s %12s %12s %12s\n", "median of 5, 1 core", "lines/cpu-s", "MB/cpu-s", "allocs/line", "wall lines/s"
	for (i = 1; i <= n; i++) {
		k = order[i]; L[k] = median(ls[k])
		# MB/cpu-s from the access log line length; the error log benchmark
		# reports its own MB/s (wall) in the raw lines above.
		mbs = (k == "NginxError") ? "-" : sprintf("%.1f", L[k] * avg / 1e6)
		printf "%-22s %14.0f %12s %12s %12.0f\n", k, L[k], mbs, median(al[k]), median(ws[k])
	}
	acc = L["Access"]; floor = L["SplitLines/bufio"]; ib = L["SplitLines/indexbyte"]; gonx = L["Gonx"]; nerr = L["NginxError"]
	print ""
	if (acc > 0 && gonx > 0) printf "access vs gonx:                 %6.1fx faster   (target >= 10x)  %s\n", acc / gonx, (acc / gonx >= 10 ? "ok" : "MISSED")
	if (acc > 0 && floor > 0) printf "access vs split floor (bufio):  %6.1fx slower   (target <= 6x)   %s\n", floor / acc, (floor / acc <= 6 ? "ok" : "MISSED")
	if (acc > 0 && ib > 0)    printf "access vs split (IndexByte):    %6.1fx slower   (stricter floor, for reference)\n", ib / acc
	if (acc > 0)              printf "access lines per CPU-second:    %6.2f M        (target >= 2 M)  %s\n", acc / 1e6, (acc >= 2e6 ? "ok" : "MISSED")
	if (acc > 0)              printf "access allocs per line:         %6s          (target 0)       %s\n", median(al["Access"]), (median(al["Access"]) == 0 ? "ok" : "MISSED")
	if (nerr > 0)             printf "error lines per CPU-second:     %6.2f M        (target >= 1 M)  %s\n", nerr / 1e6, (nerr >= 1e6 ? "ok" : "MISSED")
}' "$out"
