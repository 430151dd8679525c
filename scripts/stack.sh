#!/usr/bin/env bash
# scripts/stack.sh: the local AWS stack pilotsync's tests and `make run` use.
#
#   scripts/stack.sh install   install what is missing (Java, DynamoDB Local, aws-ses-v2-local, aws-lambda-rie)
#   scripts/stack.sh up        install, then start every service that is not already answering
#   scripts/stack.sh down [svc...]  stop the services this script started (never anything else)
#   scripts/stack.sh owned     list the services this script started that still run
#   scripts/stack.sh status    show which services answer and which this script started
#   scripts/stack.sh env       print the environment variables to export
#
# Services, all on loopback:
#   DynamoDB  DynamoDB Local 1.25 (AWS's engine)  127.0.0.1:8000  (PILOTSYNC_DYNAMODB_PORT)
#   SQS       moto_server                          127.0.0.1:5000  (PILOTSYNC_SQS_PORT)
#   SES       aws-ses-v2-local 2.10.2              127.0.0.1:8005  (PILOTSYNC_SES_PORT)
#   Lambda    aws-lambda-rie is installed here; tests start one per function on free ports.
#
# A service already answering on its port (e.g. started by someone else) is reused,
# never restarted or stopped. What this script starts is recorded in .stack/*.pid,
# and `down` stops only those processes, after checking the pid still runs the
# command it started.
#
# Licences: DynamoDB Local may not be redistributed, so it is fetched from the npm
# registry at install time (inside amplify-dynamodb-simulator) into .stack/, which
# is gitignored. Nothing here is ever committed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STACK_DIR="${PILOTSYNC_STACK_DIR:-$ROOT/.stack}"
HOST=127.0.0.1
DDB_PORT="${PILOTSYNC_DYNAMODB_PORT:-8000}"
SQS_PORT="${PILOTSYNC_SQS_PORT:-5000}"
SES_PORT="${PILOTSYNC_SES_PORT:-8005}"

# Pinned versions (LOCAL-STACK.md lists what was tried and works).
DDB_NPM_PACKAGE="amplify-dynamodb-simulator@2.9.30" # ships DynamoDB Local 1.25.1
SES_NPM_PACKAGE="aws-ses-v2-local@2.10.2"
RIE_MODULE="github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d"
JAVA_APT_PACKAGE="openjdk-17-jre-headless"

# How long to wait for a service to answer after starting it.
WAIT_SECONDS="${PILOTSYNC_STACK_WAIT:-60}"

DDB_DIR="$STACK_DIR/dynamodb"
SES_DIR="$STACK_DIR/ses"

log() { printf 'stack: %s\n' "$*" >&2; }
die() { printf 'stack: error: %s\n' "$*" >&2; exit 1; }

# as_root runs a command as root: directly, or through sudo when available.
as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"
	elif command -v sudo >/dev/null 2>&1; then sudo "$@"
	else die "need root to run: $* (install it yourself, then re-run)"
	fi
}

gobin() {
	local d
	d="$(go env GOBIN)"
	[ -n "$d" ] || d="$(go env GOPATH)/bin"
	printf '%s' "$d"
}

# rie_path prints the aws-lambda-rie binary to use, or nothing.
rie_path() {
	if command -v aws-lambda-rie >/dev/null 2>&1; then command -v aws-lambda-rie; return; fi
	if command -v go >/dev/null 2>&1 && [ -x "$(gobin)/aws-lambda-rie" ]; then printf '%s' "$(gobin)/aws-lambda-rie"; fi
}

# --- health checks: each returns 0 when the service answers like itself ---

ddb_answers() {
	# DynamoDB Local accepts any well-formed SigV4 header; ListTables proves it is DynamoDB.
	curl -fsS -m 3 -o /dev/null -X POST "http://$HOST:$DDB_PORT/" \
		-H 'X-Amz-Target: DynamoDB_20120810.ListTables' \
		-H 'Content-Type: application/x-amz-json-1.0' \
		-H 'Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0' \
		-d '{"Limit":1}' 2>/dev/null
}
sqs_answers() { curl -fsS -m 3 -o /dev/null "http://$HOST:$SQS_PORT/moto-api/" 2>/dev/null; }
ses_answers() { curl -fsS -m 3 -o /dev/null "http://$HOST:$SES_PORT/store" 2>/dev/null; }

port_busy() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

# --- install ---

install_java() {
	command -v java >/dev/null 2>&1 && return
	log "java missing: installing $JAVA_APT_PACKAGE"
	export DEBIAN_FRONTEND=noninteractive
	# apt-get update only when the package is not known yet (fresh image).
	if ! apt-cache show "$JAVA_APT_PACKAGE" >/dev/null 2>&1; then as_root apt-get update -qq; fi
	as_root apt-get install -y -qq "$JAVA_APT_PACKAGE" >/dev/null
	command -v java >/dev/null 2>&1 || die "java still missing after installing $JAVA_APT_PACKAGE"
}

install_dynamodb() {
	[ -f "$DDB_DIR/DynamoDBLocal.jar" ] && return
	command -v npm >/dev/null 2>&1 || die "npm is needed to fetch DynamoDB Local (apt-get install -y npm)"
	log "fetching DynamoDB Local from $DDB_NPM_PACKAGE (npm pack, not installed: only the jar is extracted)"
	local tmp
	tmp="$(mktemp -d)"
	(cd "$tmp" && npm pack --silent "$DDB_NPM_PACKAGE" >/dev/null)
	tar -xzf "$tmp"/amplify-dynamodb-simulator-*.tgz -C "$tmp" package/emulator
	rm -rf "$DDB_DIR"
	mkdir -p "$STACK_DIR"
	mv "$tmp/package/emulator" "$DDB_DIR"
	rm -rf "$tmp"
	[ -f "$DDB_DIR/DynamoDBLocal.jar" ] || die "DynamoDBLocal.jar not found in $DDB_NPM_PACKAGE"
}

install_ses() {
	[ -x "$SES_DIR/node_modules/.bin/aws-ses-v2-local" ] && return
	command -v npm >/dev/null 2>&1 || die "npm is needed for aws-ses-v2-local (apt-get install -y npm)"
	log "installing $SES_NPM_PACKAGE into $SES_DIR"
	mkdir -p "$SES_DIR"
	npm install --silent --no-audit --no-fund --prefix "$SES_DIR" "$SES_NPM_PACKAGE" >/dev/null
}

check_moto() {
	command -v moto_server >/dev/null 2>&1 && return
	die "moto_server not found: it serves SQS locally. Install it with: pip install 'moto[server]'"
}

install_rie() {
	[ -n "$(rie_path)" ] && return
	command -v go >/dev/null 2>&1 || die "go is needed to install aws-lambda-rie"
	log "installing aws-lambda-rie (go install, ~30 s)"
	(cd "$STACK_DIR" && GOFLAGS= go install "$RIE_MODULE")
}

install_all() {
	mkdir -p "$STACK_DIR"
	# Only what a service that must be started needs: a reused service needs nothing.
	if ! ddb_answers; then install_java; install_dynamodb; fi
	if ! sqs_answers; then check_moto; fi
	if ! ses_answers; then install_ses; fi
	install_rie
}

# --- start / stop ---

# start NAME CHECKFN COMMAND...: start COMMAND in the background unless CHECKFN
# already succeeds, record its pid, and wait until CHECKFN succeeds.
start() {
	local name="$1" check="$2" port="$3"
	shift 3
	if "$check"; then
		log "$name: already answering on $HOST:$port, reusing it"
		return
	fi
	if port_busy "$port"; then
		die "$name: port $port is taken by something that does not answer like $name; free it or set PILOTSYNC_${name^^}_PORT"
	fi
	log "$name: starting on $HOST:$port (log $STACK_DIR/$name.log)"
	nohup "$@" >"$STACK_DIR/$name.log" 2>&1 </dev/null &
	local pid=$!
	echo "$pid" >"$STACK_DIR/$name.pid"
	local waited=0
	until "$check"; do
		if ! kill -0 "$pid" 2>/dev/null; then
			rm -f "$STACK_DIR/$name.pid"
			tail -n 20 "$STACK_DIR/$name.log" >&2 || true
			die "$name exited before answering"
		fi
		[ "$waited" -lt $((WAIT_SECONDS * 5)) ] || die "$name did not answer within ${WAIT_SECONDS}s (see $STACK_DIR/$name.log)"
		sleep 0.2
		waited=$((waited + 1))
	done
	log "$name: up (pid $pid)"
}

# marker NAME prints a string the command line of the process we started contains.
marker() {
	case "$1" in
	dynamodb) echo DynamoDBLocal.jar ;;
	sqs) echo moto_server ;;
	ses) echo aws-ses-v2-local ;;
	esac
}

stop() {
	local name="$1" pidfile="$STACK_DIR/$1.pid" pid
	[ -f "$pidfile" ] || return 0
	pid="$(cat "$pidfile")"
	rm -f "$pidfile"
	if ! kill -0 "$pid" 2>/dev/null; then
		log "$name: pid $pid already gone"
		return 0
	fi
	# Guard against pid reuse: only stop the process if it still runs our command.
	if ! tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$(marker "$name")"; then
		log "$name: pid $pid no longer runs $(marker "$name"); leaving it alone"
		return 0
	fi
	log "$name: stopping pid $pid"
	kill "$pid" 2>/dev/null || true
	for _ in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null || true
}

# --- commands ---

print_env() {
	cat <<EOF
export AWS_ENDPOINT_URL_DYNAMODB=http://$HOST:$DDB_PORT
export AWS_ENDPOINT_URL_SQS=http://$HOST:$SQS_PORT
export AWS_ENDPOINT_URL_SES=http://$HOST:$SES_PORT
export AWS_REGION=\${AWS_REGION:-us-east-1}
export AWS_ACCESS_KEY_ID=\${AWS_ACCESS_KEY_ID:-test}
export AWS_SECRET_ACCESS_KEY=\${AWS_SECRET_ACCESS_KEY:-test}
EOF
	local rie
	rie="$(rie_path)"
	[ -z "$rie" ] || echo "export PILOTSYNC_RIE=$rie"
}

cmd_up() {
	install_all
	# -XX:+UseSerialGC: on 2 cores G1's concurrent GC threads compete with the
	# tests; measured on functions/poll's 5,000-profile push, DynamoDB Local used
	# 47-52 s of CPU instead of 59-73 s and the test ran in 47-49 s instead of 58-84.
	start dynamodb ddb_answers "$DDB_PORT" \
		bash -c 'cd "$1" && exec java -XX:+UseSerialGC -Djava.library.path=./DynamoDBLocal_lib -jar DynamoDBLocal.jar -inMemory -sharedDb -port "$2" -disableTelemetry' _ "$DDB_DIR" "$DDB_PORT"
	start sqs sqs_answers "$SQS_PORT" moto_server -H "$HOST" -p "$SQS_PORT"
	start ses ses_answers "$SES_PORT" "$SES_DIR/node_modules/.bin/aws-ses-v2-local" --host "$HOST" --port "$SES_PORT"
	log "stack is up. DynamoDB Local listens on all interfaces (it has no bind flag): only loopback traffic is sent to it."
	log "export these (or: eval \"\$(scripts/stack.sh env)\"):"
	print_env
}

# cmd_down stops the named services (default: all) that this script started.
cmd_down() {
	local names=("$@")
	[ ${#names[@]} -gt 0 ] || names=(ses sqs dynamodb)
	local n
	for n in "${names[@]}"; do
		case "$n" in
		dynamodb | sqs | ses) stop "$n" ;;
		*) die "unknown service $n (dynamodb, sqs, ses)" ;;
		esac
	done
}

# cmd_owned prints the services this script started and that still run.
cmd_owned() {
	local n
	for n in dynamodb sqs ses; do
		[ -f "$STACK_DIR/$n.pid" ] && kill -0 "$(cat "$STACK_DIR/$n.pid")" 2>/dev/null && echo "$n"
	done
	return 0
}

cmd_status() {
	local name check port owner rc=0
	for name in dynamodb sqs ses; do
		case "$name" in
		dynamodb) check=ddb_answers port=$DDB_PORT ;;
		sqs) check=sqs_answers port=$SQS_PORT ;;
		ses) check=ses_answers port=$SES_PORT ;;
		esac
		owner="not started by this script"
		[ -f "$STACK_DIR/$name.pid" ] && owner="started by this script (pid $(cat "$STACK_DIR/$name.pid"))"
		if "$check"; then
			printf '%-9s up    %s:%s  %s\n' "$name" "$HOST" "$port" "$owner"
		else
			printf '%-9s down  %s:%s\n' "$name" "$HOST" "$port"
			rc=1
		fi
	done
	local rie
	rie="$(rie_path)"
	printf '%-9s %s\n' rie "${rie:-not installed (scripts/stack.sh install)}"
	[ -n "$rie" ] || rc=1
	return "$rc"
}

case "${1:-}" in
install) install_all ;;
up) cmd_up ;;
down) shift; cmd_down "$@" ;;
owned) cmd_owned ;;
status) cmd_status ;;
env) print_env ;;
*)
	echo "usage: $0 install|up|down [dynamodb|sqs|ses...]|status|owned|env" >&2
	exit 2
	;;
esac
