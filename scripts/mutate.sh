#!/usr/bin/env bash
# mutate.sh runs gremlins (a Go mutation tester) over the engine packages, one
# package at a time with one worker, runs the mutants gremlins cannot run
# (scripts/mutuncov), and prints each package's score (scripts/mutscore).
# Not part of make test or CI: it takes from minutes (identity, outbound,
# inbound, forward: in-memory fakes) to hours (store, hubspot: DynamoDB Local
# and the HubSpot sandbox).
#
#   scripts/mutate.sh                 every package below
#   scripts/mutate.sh shared/inbound  only the named ones (directories)
#
# GREMLINS is the binary to use (make mutate installs the pinned version);
# MUTATE_OUT is where each package's JSON report goes.
set -euo pipefail
cd "$(dirname "$0")/.."

GREMLINS=${GREMLINS:-gremlins}
OUT=${MUTATE_OUT:-bin/mutate}
mkdir -p "$OUT"

# The engine packages, fastest first. shared/hubspot is restricted to its
# batch, walk and codec code: every other file of it (and its sandbox and
# internal packages) is excluded from mutation, not from the tests.
ALL=(shared/runreport shared/identity shared/outbound shared/inbound shared/forward shared/measured shared/store shared/hubspot)
declare -A EXCLUDE=(
	[shared/hubspot]='(^|/)(auth|client|errors|events|objects|pacing|properties|properties_input|timeline)\.go$|(^|/)(hubspottest|internal)/'
	[shared/store]='(^|/)storetest/'
)

# Tests left out of the mutation runs (go test -skip, through GOFLAGS):
# TestTimeBudget, TestBudgetSpentBeforeAnObjectIsPartialNotFailed and
# TestLeaseOutlivesASlowPage run invocations of 30-40 ms or race a lease
# against a slow page, and fail on a loaded machine with no mutant at all
# (gremlins runs at nice 19), which would stop gremlins or count a mutant as
# killed by chance (seen: objects.go:124 counted killed, alive when run
# alone). The budget code stays under TestBudgetKeepsRoomForASlowPage.
declare -A SKIP=(
	[shared/inbound]='^(TestTimeBudget|TestBudgetSpentBeforeAnObjectIsPartialNotFailed|TestLeaseOutlivesASlowPage)$'
)
# Tests a package's mutants run (go test -run): for shared/hubspot only
# the tests of the batch, walk and codec code (about 4 s instead of 80).
# The search pacing tests (TestSearch*, TestSandboxSearch*, TestSandboxMixed*)
# are left out: they test pacing.go, not these files, take 6 s of real time
# and measure it, so on a loaded machine they would kill mutants by chance.
declare -A RUN=(
	[shared/hubspot]='^(TestEncode|TestDecode|TestDates|TestNumber|TestJSONValue|TestSandboxBatchUpdate|TestBatchUpdate|TestSandboxWalk|TestWalk|TestTrimZeros|TestIDCompare)'
)
# Tests run in parallel (go test -parallel) for packages whose tests mostly
# wait: -cpu=1 also sets -parallel to 1, and shared/store's tests then take
# 10.5 s one after another (backoffs, redrives) against 5.5 s side by side.
declare -A PARALLEL=(
	[shared/store]=16
)
# MUTATE_EXCLUDE, when set, replaces the excluded files of every package
# named (e.g. to mutate only shared/hubspot/codec.go:
# MUTATE_EXCLUDE='(^|/)(auth|batchupdate|client|...|walk)\.go$').

# Mutators: gremlins' defaults (arithmetic, conditionals boundary and
# negation, increment/decrement, invert negatives) plus && <-> ||,
# break <-> continue, x op= y -> x = y, and += <-> -=: the bugs issue 14 names.
MUTATORS=(--invert-logical --invert-loopctrl --remove-self-assignments --invert-assignments)

# Mutants that do not compile must count as NOT VIABLE, not KILLED:
# scripts/mutate-go/go stands in for go and says so (see there).
MUTATE_REAL_GO=$(command -v go)
export MUTATE_REAL_GO
export PATH="$PWD/scripts/mutate-go:$PATH"

go build -o "$OUT/mutuncov" ./scripts/mutuncov

pkgs=("$@")
[ ${#pkgs[@]} -gt 0 ] || pkgs=("${ALL[@]}")
reports=()
for p in "${pkgs[@]}"; do
	name=${p//\//_}
	# Not --test-cpu: gremlins v0.6.0 passes it to go test as the single
	# argument "-cpu 1", which go test rejects ("flag provided but not
	# defined"), so every covered mutant was reported KILLED without its tests
	# running. -cpu=1 goes through GOFLAGS instead.
	args=(unleash --workers 1 --timeout-coefficient 10 "${MUTATORS[@]}" -o "$OUT/$name.json")
	exclude=${MUTATE_EXCLUDE:-${EXCLUDE[$p]:-}}
	if [ -n "$exclude" ]; then
		args+=(--exclude-files "$exclude")
	fi
	echo "== $p" >&2
	# gremlins first runs the package's tests for coverage and stops when
	# they fail; a few tests measure time and can fail on a loaded machine,
	# so that run is tried up to three times.
	# -count=1: a cached coverage run takes milliseconds, and gremlins sets
	# each mutant's timeout to ten times the coverage run's time, so every
	# mutant then timed out (TIMED OUT counts as caught).
	goflags="${GOFLAGS:-} -cpu=1 -count=1"
	if [ -n "${SKIP[$p]:-}" ]; then
		goflags="$goflags -skip=${SKIP[$p]}"
	fi
	if [ -n "${PARALLEL[$p]:-}" ]; then
		goflags="$goflags -parallel=${PARALLEL[$p]}"
	fi
	if [ -n "${RUN[$p]:-}" ]; then
		goflags="$goflags -run=${RUN[$p]}"
	fi
	for try in 1 2 3; do
		if GOFLAGS="$goflags" nice -n 19 "$GREMLINS" "${args[@]}" "./$p" >"$OUT/$name.log" 2>&1; then
			break
		fi
		if [ "$try" = 3 ] || ! grep -q 'failed to gather coverage' "$OUT/$name.log"; then
			echo "gremlins failed on $p (see $OUT/$name.log)" >&2
			tail -20 "$OUT/$name.log" >&2
			exit 1
		fi
		echo "   the tests failed while gathering coverage; again ($try)" >&2
	done
	# gremlins never runs a mutant in a switch case condition or a constant
	# (it reads them as NOT COVERED: go-gremlins/gremlins#298); mutuncov runs
	# each NOT COVERED mutant with the same test flags and records the result.
	GOFLAGS="$goflags" nice -n 19 "$OUT/mutuncov" -report "$OUT/$name.json" "./$p" >>"$OUT/$name.log" 2>&1 || {
		echo "mutuncov failed on $p (see $OUT/$name.log)" >&2
		tail -20 "$OUT/$name.log" >&2
		exit 1
	}
	reports+=("$p=$OUT/$name.json")
done
# The equivalent mutants (no behaviour differs: no test can catch them) are
# listed with the reason in scripts/mutants-equivalent.tsv; mutscore prints
# the score with and without them, and any entry no survivor matches.
go run ./scripts/mutscore -equivalent scripts/mutants-equivalent.tsv "${reports[@]}"
