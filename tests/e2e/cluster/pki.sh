# shellcheck shell=bash
# Certificates (openssl, ECDSA P-256) and kubeconfigs of the e2e cluster (sourced by up).
# Everything lives in $E2E_PKI; existing files are kept so that a second up reuses them.

_sign() { # NAME SUBJECT EXT_LINES...: key NAME.key + cert NAME.crt signed by the cluster CA
  local name=$1 subj=$2; shift 2
  local ext
  [[ -s $E2E_PKI/$name.crt && -s $E2E_PKI/$name.key ]] && return 0
  ext=$(mktemp)
  printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" "$@" >"$ext"
  run openssl ecparam -name prime256v1 -genkey -noout -out "$E2E_PKI/$name.key"
  run openssl req -new -key "$E2E_PKI/$name.key" -subj "$subj" -out "$E2E_PKI/$name.csr"
  run openssl x509 -req -in "$E2E_PKI/$name.csr" -CA "$E2E_PKI/ca.crt" -CAkey "$E2E_PKI/ca.key" \
    -CAcreateserial -days 3650 -sha256 -extfile "$ext" -out "$E2E_PKI/$name.crt" \
    || { rm -f "$ext"; die "openssl: signing $name failed"; }
  rm -f "$ext" "$E2E_PKI/$name.csr"
}

_kubeconfig() { # FILE USER CERTNAME [SERVER]
  local file=$1 user=$2 cert=$3 server=${4:-https://127.0.0.1:$E2E_API_PORT}
  [[ -s $file ]] && return 0
  cat >"$file" <<KC
apiVersion: v1
kind: Config
clusters:
- name: netpol-e2e
  cluster:
    server: $server
    certificate-authority-data: $(base64 -w0 <"$E2E_PKI/ca.crt")
users:
- name: $user
  user:
    client-certificate-data: $(base64 -w0 <"$E2E_PKI/$cert.crt")
    client-key-data: $(base64 -w0 <"$E2E_PKI/$cert.key")
contexts:
- name: $user@netpol-e2e
  context:
    cluster: netpol-e2e
    user: $user
current-context: $user@netpol-e2e
KC
  chmod 600 "$file"
}

make_pki() {
  mkdir -p "$E2E_PKI"
  chmod 700 "$E2E_PKI"
  if [[ ! -s $E2E_PKI/ca.crt ]]; then
    log "creating the cluster CA and certificates in $E2E_PKI"
    run openssl ecparam -name prime256v1 -genkey -noout -out "$E2E_PKI/ca.key"
    run openssl req -x509 -new -key "$E2E_PKI/ca.key" -days 3650 -sha256 -subj "/CN=netpol-e2e-ca" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
      -out "$E2E_PKI/ca.crt" || die "openssl: CA creation failed"
  fi
  local server="extendedKeyUsage=serverAuth" client="extendedKeyUsage=clientAuth"
  _sign apiserver "/CN=kube-apiserver" "$server" \
    "subjectAltName=DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.$E2E_CLUSTER_DOMAIN,DNS:localhost,DNS:$E2E_NODE_NAME,IP:$E2E_API_SVC_IP,IP:$E2E_NODE_IP,IP:127.0.0.1"
  _sign apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" "$client"
  _sign admin "/O=system:masters/CN=kubernetes-admin" "$client"
  _sign controller-manager "/CN=system:kube-controller-manager" "$client"
  _sign scheduler "/CN=system:kube-scheduler" "$client"
  _sign kube-proxy "/CN=system:kube-proxy" "$client"
  _sign kubelet-client "/O=system:nodes/CN=system:node:$E2E_NODE_NAME" "$client"
  _sign kubelet-server "/CN=$E2E_NODE_NAME" "$server" "subjectAltName=DNS:$E2E_NODE_NAME,DNS:localhost,IP:$E2E_NODE_IP,IP:127.0.0.1"
  if [[ ! -s $E2E_PKI/sa.key ]]; then
    run openssl ecparam -name prime256v1 -genkey -noout -out "$E2E_PKI/sa.key"
    run openssl ec -in "$E2E_PKI/sa.key" -pubout -out "$E2E_PKI/sa.pub"
  fi
  _kubeconfig "$E2E_DIR/controller-manager.kubeconfig" system:kube-controller-manager controller-manager
  _kubeconfig "$E2E_DIR/scheduler.kubeconfig" system:kube-scheduler scheduler
  _kubeconfig "$E2E_DIR/kube-proxy.kubeconfig" system:kube-proxy kube-proxy
  _kubeconfig "$E2E_DIR/kubelet.kubeconfig" "system:node:$E2E_NODE_NAME" kubelet-client
  _kubeconfig "$E2E_KUBECONFIG" kubernetes-admin admin
  chmod 600 "$E2E_PKI"/*.key
}
