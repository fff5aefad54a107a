# shellcheck shell=bash disable=SC2034
# Common settings and helpers for the e2e cluster scripts (up, down, status, pack-image, make-rootfs).
# Sourced, not executed.


# --- locations (override with the environment) -------------------------------------------------
E2E_DIR=${NETPOL_E2E_DIR:-/var/lib/netpol-e2e}        # cluster state (removed by down, except logs/)
E2E_RUN=${NETPOL_E2E_RUN:-/run/netpol-e2e}            # sockets, pid files (removed by down)
E2E_CACHE=${NETPOL_E2E_CACHE:-/var/cache/netpol-e2e}  # build cache (kept by down)
E2E_LOGS=$E2E_DIR/logs
E2E_PKI=$E2E_DIR/pki
E2E_KUBECONFIG=$E2E_DIR/admin.kubeconfig
E2E_CTR_SOCK=$E2E_RUN/containerd/containerd.sock
# No kubectl on PATH (Debian has no package): the one up builds from the Kubernetes source.
if ! command -v kubectl >/dev/null 2>&1; then
  for _k in "$E2E_CACHE"/kubernetes-*/bin/kubectl; do
    [[ -x $_k ]] && { PATH=$(dirname "$_k"):$PATH; export PATH; break; }
  done
fi
# down deletes these directories: refuse anything that is not a dedicated absolute path.
for _v in E2E_DIR E2E_RUN E2E_CACHE; do
  if [[ ! ${!_v} =~ ^/[^/]+/[^/].*$ || ${!_v} == *..* || ${!_v} =~ ^/(bin|boot|dev|etc|home|lib|lib64|proc|root|sbin|sys|usr)(/|$) ]]; then
    echo "netpol-e2e: refusing $_v='${!_v}': use a dedicated absolute directory such as /var/lib/netpol-e2e" >&2
    exit 2
  fi
done
unset _v

# --- cluster shape ------------------------------------------------------------------------------
E2E_NODE_NAME=${NETPOL_E2E_NODE_NAME:-netpol-e2e}
E2E_BRIDGE=cni0
E2E_CNI_BIN=/usr/lib/cni            # containerd's CNI bin_dir (Debian's containernetworking-plugins)
E2E_CLUSTER_CIDR=10.244.0.0/16      # all pods (controller-manager --cluster-cidr, kube-proxy clusterCIDR)
E2E_NODE_POD_CIDR=10.244.0.0/24     # this node's pods (bridge + host-local IPAM)
E2E_NODE_IP=10.244.0.1              # the bridge address = node InternalIP = API server address
E2E_SERVICE_CIDR=10.96.0.0/12
E2E_API_SVC_IP=10.96.0.1            # Service kubernetes.default
E2E_DNS_IP=10.96.0.10               # Service kube-system/kube-dns (hook, see dns-hook.yaml)
E2E_CLUSTER_DOMAIN=cluster.local
E2E_API_PORT=6443
E2E_API_URL=https://$E2E_NODE_IP:$E2E_API_PORT
E2E_ETCD_URL=http://127.0.0.1:2379

# --- kubernetes source package ------------------------------------------------------------------
E2E_K8S_SRC_PKG=kubernetes
E2E_COMPONENTS=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy)

# Images are named under "localhost/" so that a pull of a missing image can only go to loopback.
E2E_IMAGE_PREFIX=localhost/netpol-e2e
E2E_PAUSE_IMAGE=$E2E_IMAGE_PREFIX/pause:3.4
E2E_BUSYBOX_IMAGE=$E2E_IMAGE_PREFIX/busybox:1.35

# Guard chain (iptables mangle table); deliberately not KUBE-*, CNI-* or NETPOL-* so that no other
# cleanup (kube-proxy, CNI, the project's enforcer) owns it.
E2E_GUARD_OUT=E2E-GUARD-OUT
E2E_GUARD_IN=E2E-GUARD-IN

# --- logging ------------------------------------------------------------------------------------
E2E_SCRIPT_LOG=${E2E_SCRIPT_LOG:-/dev/null}
_ts() { date '+%H:%M:%S'; }
log()  { printf '[%s] %s\n' "$(_ts)" "$*" | tee -a "$E2E_SCRIPT_LOG" >&2; }
warn() { printf '[%s] WARNING: %s\n' "$(_ts)" "$*" | tee -a "$E2E_SCRIPT_LOG" >&2; }
die()  { printf '[%s] ERROR: %s\n' "$(_ts)" "$*" | tee -a "$E2E_SCRIPT_LOG" >&2; exit 1; }
# run CMD...: log the command, send its output to the script log only.
run()  { printf '[%s] + %s\n' "$(_ts)" "$*" >>"$E2E_SCRIPT_LOG"; "$@" >>"$E2E_SCRIPT_LOG" 2>&1; }

start_script_log() { # NAME
  mkdir -p "$E2E_LOGS"
  E2E_SCRIPT_LOG=$E2E_LOGS/$1.log
  printf '\n===== %s %s (pid %s) =====\n' "$1" "$(date -Is)" "$$" >>"$E2E_SCRIPT_LOG"
}

need_root() { [[ $(id -u) -eq 0 ]] || die "must run as root (needs iptables, mounts, network namespaces)"; }

# Seconds since the epoch with decimals, and a duration printer.
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }

# --- daemons ------------------------------------------------------------------------------------
pidfile() { echo "$E2E_RUN/$1.pid"; }

# daemon_pid NAME: print the pid if the daemon recorded in the pid file is alive and still runs
# the binary it was started with (guards against pid reuse); otherwise print nothing.
daemon_pid() {
  local f pid exe want
  f=$(pidfile "$1")
  [[ -s $f ]] || return 0
  read -r pid want <"$f" || true
  [[ -n ${pid:-} && -d /proc/$pid ]] || return 0
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null || true)
  exe=${exe% (deleted)}
  if [[ -z ${want:-} || $exe == "$want" ]]; then echo "$pid"; fi
}

# start_daemon NAME BINARY ARGS...: start in the background (own session), log to logs/NAME.log.
start_daemon() {
  local name=$1 bin=$2; shift 2
  local pid
  pid=$(daemon_pid "$name")
  if [[ -n $pid ]]; then log "$name already running (pid $pid)"; return 0; fi
  mkdir -p "$E2E_RUN" "$E2E_LOGS"
  printf '[%s] + %s %s\n' "$(_ts)" "$bin" "$*" >>"$E2E_SCRIPT_LOG"
  printf '\n===== start %s =====\n%s %s\n' "$(date -Is)" "$bin" "$*" >>"$E2E_LOGS/$name.log"
  setsid "$bin" "$@" >>"$E2E_LOGS/$name.log" 2>&1 </dev/null &
  pid=$!
  echo "$pid $(readlink -f "$bin")" >"$(pidfile "$name")"
  log "started $name (pid $pid, log $E2E_LOGS/$name.log)"
}

# stop_daemon NAME [TIMEOUT]: TERM, wait, KILL.
stop_daemon() {
  local name=$1 timeout=${2:-15} pid i
  pid=$(daemon_pid "$name")
  if [[ -z $pid ]]; then rm -f "$(pidfile "$name")"; return 0; fi
  log "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < timeout * 10; i++)); do
    [[ -d /proc/$pid ]] || break
    sleep 0.1
  done
  if [[ -d /proc/$pid ]]; then
    warn "$name did not stop in ${timeout}s, killing"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.5
  fi
  rm -f "$(pidfile "$name")"
}


# stop_daemons TIMEOUT NAME...: TERM all at once, wait, KILL what is left.
stop_daemons() {
  local timeout=$1; shift
  local name pid i left
  local -A pids=()
  for name in "$@"; do
    pid=$(daemon_pid "$name")
    if [[ -n $pid ]]; then
      pids[$name]=$pid
      log "stopping $name (pid $pid)"
      kill -TERM "$pid" 2>/dev/null || true
    else
      rm -f "$(pidfile "$name")"
    fi
  done
  for ((i = 0; i < timeout * 10; i++)); do
    left=0
    for name in "${!pids[@]}"; do [[ -d /proc/${pids[$name]} ]] && left=1; done
    ((left)) || break
    sleep 0.1
  done
  for name in "${!pids[@]}"; do
    if [[ -d /proc/${pids[$name]} ]]; then
      warn "$name did not stop in ${timeout}s, killing"
      kill -KILL "${pids[$name]}" 2>/dev/null || true
    fi
    rm -f "$(pidfile "$name")"
  done
}

# wait_for DESCRIPTION TIMEOUT_S COMMAND...: poll until COMMAND succeeds.
wait_for() {
  local what=$1 timeout=$2; shift 2
  local t0 i
  t0=$(now)
  for ((i = 0; i < timeout * 2; i++)); do
    if "$@" >/dev/null 2>&1; then log "$what ($(elapsed "$t0"))"; return 0; fi
    sleep 0.5
  done
  return 1
}

kubectl_e2e() { kubectl --kubeconfig "$E2E_KUBECONFIG" "$@"; }
ctr_e2e() { ctr --address "$E2E_CTR_SOCK" "$@"; }

# Version of the kubernetes source package that apt would fetch (needs the deb-src line).
k8s_src_version() {
  apt-cache showsrc "$E2E_K8S_SRC_PKG" 2>/dev/null | awk '/^Version:/ { print $2; exit }'
}

# write_file PATH: write stdin to PATH only if the content differs (kube-proxy exits when its
# config file changes, so an idempotent up must not touch unchanged files).
write_file() {
  local tmp
  tmp=$(mktemp "$1.XXXXXX")
  cat >"$tmp"
  if cmp -s "$tmp" "$1"; then rm -f "$tmp"; else chmod 644 "$tmp"; mv "$tmp" "$1"; fi
}

# print_header FILE: the comment block at the top of a script (its usage text).
print_header() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$1"; }
