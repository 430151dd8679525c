#!/usr/bin/env bash
# scripts/with-stack.sh CMD [ARG...]: run CMD with the local AWS stack up.
#
# Starts (installing first when missing, see scripts/stack.sh) every service of
# the local stack that is not already answering, exports the endpoints
# (scripts/stack.sh env), runs CMD, and stops exactly the services this call
# started: also when CMD fails or on Ctrl-C. Services already running (someone
# else's, or a `make stack-up`) are reused and left running. Exits with CMD's
# status. `make test` and .ci/run use it.
set -euo pipefail

[ $# -gt 0 ] || { echo "usage: $0 CMD [ARG...]" >&2; exit 2; }
STACK="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/stack.sh"

# Services this call started: stopped on exit, whatever happens.
started=()
cleanup() {
	local rc=$?
	if [ ${#started[@]} -gt 0 ]; then
		printf 'with-stack: stopping what this run started: %s\n' "${started[*]}" >&2
		"$STACK" down "${started[@]}" || true
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

before="$("$STACK" owned)"
# Recorded before `up` returns: a service started by `up` that then fails a
# later step (or Ctrl-C during up) is still stopped.
record_started() {
	local svc
	for svc in $("$STACK" owned); do
		grep -qx "$svc" <<<"$before" || started+=("$svc")
	done
}
if ! "$STACK" up >/dev/null; then
	record_started
	exit 1
fi
record_started
"$STACK" status >&2
eval "$("$STACK" env)"

set +e
"$@"
rc=$?
set -e
exit "$rc"
