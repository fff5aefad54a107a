# shellcheck shell=bash disable=SC2034
# Package installation and the Kubernetes build (sourced by up).

E2E_PACKAGES=(
  etcd-server containerd runc containernetworking-plugins
  golang-go golang-github-modern-go-reflect2-dev
  iptables ipset conntrack iproute2 rsync build-essential dpkg-dev
  busybox-static openssl curl jq util-linux procps kmod
)
E2E_SRC_LIST=/etc/apt/sources.list.d/netpol-e2e-src.sources

# The Debian mirror the machine already uses (deb822 or one-line format), for the deb-src line.
debian_mirror() {
  local uri
  uri=$(awk '/^URIs:/ { u = $2 } /^Suites:/ && / bookworm( |$)/ && u != "" { print u; exit }' \
    /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  if [[ -z $uri ]]; then
    uri=$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true)
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}

install_packages() {
  local t0 missing=() p updated=0
  t0=$(now)
  if [[ ! -f $E2E_SRC_LIST ]] && ! grep -rqsE '^(deb-src|Types:.*deb-src)' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    log "adding a bookworm deb-src line ($E2E_SRC_LIST) for 'apt-get source $E2E_K8S_SRC_PKG'"
    cat >"$E2E_SRC_LIST" <<SRC
# added by kubectl-netpol tests/e2e/cluster/up: source of the Kubernetes build of the e2e cluster
Types: deb-src
URIs: $(debian_mirror)
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    run apt-get update || die "apt-get update failed (see $E2E_SCRIPT_LOG)"
    updated=1
  fi
  for p in "${E2E_PACKAGES[@]}"; do
    dpkg-query -W -f='${db:Status-Status}\n' "$p" 2>/dev/null | grep -qx installed || missing+=("$p")
  done
  if ((${#missing[@]} == 0)); then
    log "packages: all ${#E2E_PACKAGES[@]} already installed"
  else
    log "packages: installing ${missing[*]}"
    ((updated)) || run apt-get update || die "apt-get update failed (see $E2E_SCRIPT_LOG)"
    # Do not let the packages start their own etcd/containerd services.
    local own_policy=0
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
      printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; own_policy=1
    fi
    DEBIAN_FRONTEND=noninteractive run apt-get install -y --no-install-recommends -o DPkg::Lock::Timeout=300 "${missing[@]}" \
      || { ((own_policy)) && rm -f /usr/sbin/policy-rc.d; die "apt-get install failed (see $E2E_SCRIPT_LOG)"; }
    ((own_policy)) && rm -f /usr/sbin/policy-rc.d
    log "packages installed in $(elapsed "$t0")"
  fi
  [[ -n $(k8s_src_version) ]] || { run apt-get update; [[ -n $(k8s_src_version) ]] || die "apt-cache showsrc $E2E_K8S_SRC_PKG finds nothing: is the deb-src line in $E2E_SRC_LIST reachable?"; }
}

# --- Kubernetes from Debian's source package -----------------------------------------------------
# Result: $E2E_CACHE/kubernetes-<source version>/bin/{kube-apiserver,...} (+ BUILD-INFO), reused by
# every later up. The extracted source stays there too (pause.c comes from it).
k8s_cache_dir() { echo "$E2E_CACHE/kubernetes-$(k8s_src_version)"; }
E2E_K8S_BIN=""   # set by build_kubernetes

k8s_built() { # DIR
  local c
  [[ -f $1/bin/BUILD-INFO ]] || return 1
  for c in "${E2E_COMPONENTS[@]}"; do [[ -x $1/bin/$c ]] || return 1; done
}

# k8s_ldflags VERSION: -ldflags for a Kubernetes binary of this source version (gitVersion etc.).
k8s_ldflags() {
  local ver=$1 gv major minor pkg=k8s.io/kubernetes/vendor/k8s.io k ldflags="-s -w"
  gv=v${ver#*really}; gv=${gv%%-*}     # 1.20.5+really1.20.2-1.1+deb12u1 -> v1.20.2
  major=${gv#v}; major=${major%%.*}
  minor=${gv#v*.}; minor=${minor%%.*}
  for k in client-go/pkg/version component-base/version; do
    ldflags+=" -X $pkg/$k.gitVersion=$gv -X $pkg/$k.gitMajor=$major -X $pkg/$k.gitMinor=$minor"
    ldflags+=" -X $pkg/$k.gitTreeState=clean -X $pkg/$k.gitCommit=debian-$ver"
    ldflags+=" -X $pkg/$k.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  done
  echo "$ldflags"
}

# The Go environment of every build from the source tree: GOPATH mode (module mode with
# -mod=vendor fails with this tree and Go 1.19), static binaries, the cache next to the source.
k8s_goenv() { # DIR -> sets the array goenv
  goenv=(env GOPATH="$1/gopath" GO111MODULE=off GOFLAGS= CGO_ENABLED=0 GOCACHE="${NETPOL_E2E_GOCACHE:-$1/gocache}"
    HOME="$1" GOTOOLCHAIN=local)
}

build_kubernetes() {
  local ver dir src gopath t0 c
  ver=$(k8s_src_version)
  dir=$(k8s_cache_dir)
  E2E_K8S_BIN=$dir/bin
  if k8s_built "$dir"; then
    log "kubernetes $ver: cached binaries in $dir/bin (cold build took $(awk -F= '/^build_seconds=/ { print $2 }' "$dir/bin/BUILD-INFO")s)"
    return 0
  fi
  t0=$(now)
  mkdir -p "$dir"
  src=$(find "$dir" -maxdepth 1 -mindepth 1 -type d -name "kubernetes-*" -print -quit)
  if [[ -z $src || ! -f $src/build/pause/linux/pause.c ]]; then
    log "kubernetes $ver: fetching the source package (apt-get source)"
    rm -rf "$dir"/kubernetes-* "$dir"/kubernetes_*
    (cd "$dir" && run apt-get source --only-source "$E2E_K8S_SRC_PKG=$ver") \
      || die "apt-get source $E2E_K8S_SRC_PKG=$ver failed (see $E2E_SCRIPT_LOG)"
    src=$(find "$dir" -maxdepth 1 -mindepth 1 -type d -name "kubernetes-*" -print -quit)
    [[ -n $src ]] || die "apt-get source produced no kubernetes-* directory in $dir"
  fi
  log "kubernetes $ver: building ${E2E_COMPONENTS[*]} with $(go version | awk '{print $3}') (cold build, ~5 min on 2 cores; log $E2E_LOGS/build.log)"

  # Go >= 1.18 crashes the vendored reflect2 v1.0.1 (SIGSEGV in jsoniter on YAML/pretty output);
  # Debian's golang-github-modern-go-reflect2-dev (1.0.2) replaces it.
  local r2=/usr/share/gocode/src/github.com/modern-go/reflect2
  [[ -f $r2/reflect2.go ]] || die "$r2 missing (package golang-github-modern-go-reflect2-dev)"
  rm -rf "$src/vendor/github.com/modern-go/reflect2"
  mkdir -p "$src/vendor/github.com/modern-go/reflect2"
  find "$r2" -maxdepth 1 -type f \( -name '*.go' -o -name '*.s' \) ! -name '*_test.go' \
    -exec cp {} "$src/vendor/github.com/modern-go/reflect2/" \;

  # GOPATH mode: module mode with -mod=vendor fails with this tree and Go 1.19.
  gopath=$dir/gopath
  mkdir -p "$gopath/src/k8s.io"
  ln -sfn "$src" "$gopath/src/k8s.io/kubernetes"
  local -a goenv=(env GOPATH="$gopath" GO111MODULE=off GOFLAGS= CGO_ENABLED=0 GOCACHE="$dir/gocache"
    HOME="$dir" GOTOOLCHAIN=local)
  local blog=$E2E_LOGS/build.log
  : >"$blog"
  # pkg/generated/openapi/zz_generated.openapi.go is not in the source package.
  if [[ ! -s $src/pkg/generated/openapi/zz_generated.openapi.go ]]; then
    log "generating pkg/generated/openapi (make gen_openapi)"
    # a failed earlier run leaves a 0-byte openapi-gen behind
    find "$src/_output" -name openapi-gen -size 0 -delete 2>/dev/null || true
    (cd "$gopath/src/k8s.io/kubernetes" && "${goenv[@]}" make gen_openapi) >>"$blog" 2>&1 \
      || { find "$src/_output" -name openapi-gen -size 0 -delete 2>/dev/null || true
           tail -20 "$blog" >&2; die "make gen_openapi failed (see $blog)"; }
  fi
  local ldflags
  ldflags=$(k8s_ldflags "$ver")
  local out=$dir/bin.tmp
  rm -rf "$out"; mkdir -p "$out"
  local pkgs=()
  for c in "${E2E_COMPONENTS[@]}"; do pkgs+=("./cmd/$c"); done
  (cd "$gopath/src/k8s.io/kubernetes" && "${goenv[@]}" go build -trimpath -o "$out/" -ldflags "$ldflags" "${pkgs[@]}") >>"$blog" 2>&1 \
    || { tail -30 "$blog" >&2; die "go build failed (see $blog)"; }
  local secs
  secs=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%d", b - a }')
  local gv=v${ver#*really}; gv=${gv%%-*}
  cat >"$out/BUILD-INFO" <<INFO
source_package=$E2E_K8S_SRC_PKG
source_version=$ver
git_version=$gv
go=$(go version | awk '{print $3}')
built=$(date -Is)
build_seconds=$secs
reflect2=debian $(dpkg-query -W -f='${Version}' golang-github-modern-go-reflect2-dev)
INFO
  rm -rf "${dir:?}/bin" && mv "$out" "$dir/bin"
  # The Go cache (~1.5 GB) stays until build_upstream (which shares most packages) is done with
  # it; drop_gocache removes it.
  log "kubernetes $ver: built in ${secs}s -> $dir/bin"
}

# kubectl: the scripts and the e2e suite need a client, and Debian bookworm has no kubectl
# package. Without one on PATH, build it from the same source next to the components (once;
# lib.sh puts that directory on PATH when kubectl is missing).
ensure_kubectl() {
  command -v kubectl >/dev/null && return 0
  local dir src gopath t0
  dir=$(k8s_cache_dir)
  [[ -x $dir/bin/kubectl ]] && { export PATH=$dir/bin:$PATH; return 0; }
  src=$(find "$dir" -maxdepth 1 -mindepth 1 -type d -name "kubernetes-*" -print -quit)
  [[ -n $src ]] || die "no kubectl on PATH and no Kubernetes source in $dir to build one"
  gopath=$dir/gopath
  t0=$(now)
  log "no kubectl on PATH: building it from $src (log $E2E_LOGS/build.log)"
  (cd "$gopath/src/k8s.io/kubernetes" && env GOPATH="$gopath" GO111MODULE=off GOFLAGS= CGO_ENABLED=0 \
      GOCACHE="$dir/gocache" HOME="$dir" GOTOOLCHAIN=local \
      go build -trimpath -o "$dir/bin/kubectl.tmp" -ldflags "-s -w" ./cmd/kubectl) >>"$E2E_LOGS/build.log" 2>&1 \
    || { tail -30 "$E2E_LOGS/build.log" >&2; die "go build ./cmd/kubectl failed (see $E2E_LOGS/build.log)"; }
  mv "$dir/bin/kubectl.tmp" "$dir/bin/kubectl"
  export PATH=$dir/bin:$PATH
  log "kubectl built in $(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%d", b - a }')s -> $dir/bin/kubectl"
}

# drop_gocache: the binaries are what is cached, not the Go build cache (~1.5-2.5 GB).
drop_gocache() { rm -rf "$(k8s_cache_dir)/gocache"; }

# --- upstream conformance binaries: e2e.test and agnhost (tests/e2e/upstream) --------------------
# From the same source tree, into $E2E_CACHE/kubernetes-<version>/upstream/{e2e.test,agnhost} (+
# BUILD-INFO), once per machine. The tree lacks test/e2e/generated/bindata.go (the manifests and
# fixtures the e2e framework embeds): it is generated with the vendored go-bindata and the
# arguments of hack/generate-bindata.sh. Built right after the components, most packages come from
# their Go cache (client-go, apimachinery, api, ...).
k8s_upstream_dir() { echo "$(k8s_cache_dir)/upstream"; }
upstream_built() { [[ -f $1/BUILD-INFO && -x $1/e2e.test && -x $1/agnhost ]]; }

build_upstream() {
  local ver dir src out t0 secs blog tmp
  ver=$(k8s_src_version)
  dir=$(k8s_cache_dir)
  out=$dir/upstream
  if upstream_built "$out"; then
    log "kubernetes $ver: cached e2e.test and agnhost in $out (cold build took $(awk -F= '/^build_seconds=/ { print $2 }' "$out/BUILD-INFO")s)"
    return 0
  fi
  src=$(find "$dir" -maxdepth 1 -mindepth 1 -type d -name "kubernetes-*" -print -quit)
  [[ -n $src && -d $src/test/e2e ]] || die "no Kubernetes source tree in $dir (run tests/e2e/cluster/up first)"
  [[ -L $dir/gopath/src/k8s.io/kubernetes ]] || { mkdir -p "$dir/gopath/src/k8s.io"; ln -sfn "$src" "$dir/gopath/src/k8s.io/kubernetes"; }
  local -a goenv
  k8s_goenv "$dir"
  blog=$E2E_LOGS/build-upstream.log
  mkdir -p "$E2E_LOGS"; : >"$blog"
  t0=$(now)
  log "kubernetes $ver: building e2e.test and agnhost (cold build; log $blog)"
  tmp=$out.tmp
  rm -rf "$tmp"; mkdir -p "$tmp"
  local gen=test/e2e/generated/bindata.go
  if [[ ! -s $src/$gen ]]; then
    log "generating $gen (vendored go-bindata, arguments of hack/generate-bindata.sh)"
    (cd "$dir/gopath/src/k8s.io/kubernetes" \
      && "${goenv[@]}" go build -o "$tmp/go-bindata" k8s.io/kubernetes/vendor/github.com/go-bindata/go-bindata/go-bindata \
      && "$tmp/go-bindata" -nometadata -o "$gen.tmp" -pkg generated \
           -ignore .jpg -ignore .png -ignore .md -ignore 'BUILD(\.bazel)?' \
           "test/conformance/testdata/..." "test/e2e/testing-manifests/..." \
           "test/e2e_node/testing-manifests/..." "test/images/..." "test/fixtures/..." \
      && gofmt -s -w "$gen.tmp" && mv "$gen.tmp" "$gen") >>"$blog" 2>&1 \
      || { rm -f "$src/$gen.tmp"; tail -20 "$blog" >&2; die "generating $gen failed (see $blog)"; }
  fi
  local ldflags
  ldflags=$(k8s_ldflags "$ver")
  (cd "$dir/gopath/src/k8s.io/kubernetes" \
    && "${goenv[@]}" go test -c -trimpath -ldflags "$ldflags" -o "$tmp/e2e.test" ./test/e2e) >>"$blog" 2>&1 \
    || { tail -30 "$blog" >&2; die "go test -c ./test/e2e failed (see $blog)"; }
  log "e2e.test built ($(elapsed "$t0"))"
  (cd "$dir/gopath/src/k8s.io/kubernetes" \
    && "${goenv[@]}" go build -trimpath -ldflags "$ldflags" -o "$tmp/agnhost" ./test/images/agnhost) >>"$blog" 2>&1 \
    || { tail -30 "$blog" >&2; die "go build ./test/images/agnhost failed (see $blog)"; }
  rm -f "$tmp/go-bindata"
  secs=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%d", b - a }')
  cat >"$tmp/BUILD-INFO" <<INFO
source_package=$E2E_K8S_SRC_PKG
source_version=$ver
agnhost_version=$(cat "$src/test/images/agnhost/VERSION" 2>/dev/null || echo unknown)
go=$(go version | awk '{print $3}')
built=$(date -Is)
build_seconds=$secs
INFO
  rm -rf "$out" && mv "$tmp" "$out"
  log "kubernetes $ver: e2e.test and agnhost built in ${secs}s -> $out"
}
