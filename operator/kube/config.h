// Where the client finds the API server and its credentials: a kubeconfig file
// (--kubeconfig, $KUBECONFIG, ~/.kube/config) or the in-cluster service-account
// files. TLS is always verified: a kubeconfig that asks to skip verification is
// refused. Every error names the file, the context and the field at fault.
#pragma once

#include <optional>
#include <string>

#include "kube/result.h"

namespace sot::kube {

struct ClientConfig {
  std::string server;             // https://host:port, no trailing slash
  std::string ca_pem;             // trusted CA bundle (PEM); empty: the system's trust store
  std::string client_cert_pem;    // client certificate chain (PEM), optional
  std::string client_key_pem;     // its private key (PEM)
  std::string token;              // bearer token, optional
  std::string token_file;         // re-read periodically (projected service-account tokens rotate)
  std::string source;             // where this came from, for messages ("kubeconfig /x, context y")
  std::string default_namespace;  // the context's namespace (in-cluster: the pod's); "" when unset
  std::string user_agent;         // "" : the HTTP library's own
  // Writes whose options name no field manager are made as this one (the
  // program that uses the client names itself; this layer names no program).
  std::string field_manager;
};

// Loads `path`, using `context` or else current-context. Relative file paths in
// the kubeconfig are resolved against the kubeconfig's directory, as kubectl does.
Result<ClientConfig> load_kubeconfig(const std::string& path, const std::string& context = {});

// Parses kubeconfig text (used by load_kubeconfig and by tests).
Result<ClientConfig> parse_kubeconfig(const std::string& text, const std::string& base_dir, const std::string& source,
                                      const std::string& context = {});

// In-cluster: KUBERNETES_SERVICE_HOST/PORT and the files under `sa_dir`
// (token, ca.crt).
Result<ClientConfig> load_in_cluster(const std::string& sa_dir = "/var/run/secrets/kubernetes.io/serviceaccount");

// The order client-go uses: explicit path, then $KUBECONFIG (first existing entry),
// then in-cluster when KUBERNETES_SERVICE_HOST is set, then ~/.kube/config.
// `context` overrides current-context (a kubeconfig only).
Result<ClientConfig> load_default(const std::string& explicit_path, const std::string& context = {});

// Checks that the PEM material parses and that the key matches the certificate.
Status validate_tls_material(const ClientConfig& cfg);

}  // namespace sot::kube
