#include "kube/config.h"

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <yaml-cpp/yaml.h>

#include "common/base64.h"

namespace sot::kube {

namespace fs = std::filesystem;

namespace {

std::optional<std::string> read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Finds the entry named `name` in a kubeconfig list (clusters/users/contexts).
// A default-constructed YAML::Node is a defined null, so "not found" is an
// empty optional rather than an empty node.
std::optional<YAML::Node> find_named(const YAML::Node& list, const std::string& name) {
  if (!list || !list.IsSequence()) return std::nullopt;
  for (const auto& item : list) {
    if (item["name"] && item["name"].as<std::string>() == name) return item;
  }
  return std::nullopt;
}

std::string str(const YAML::Node& n, const char* key) {
  const YAML::Node v = n[key];
  if (!v || v.IsNull()) return {};
  return v.as<std::string>();
}

// Reads "<field>" (a file path) or "<field>-data" (base64 inline).
Result<std::string> file_or_data(const YAML::Node& n, const std::string& field, const fs::path& base_dir,
                                 const std::string& where) {
  const std::string data = str(n, (field + "-data").c_str());
  if (!data.empty()) {
    auto decoded = common::base64_decode_lenient(data);
    if (!decoded) return make_error(Code::kInvalid, where + ": " + field + "-data is not valid base64");
    return *decoded;
  }
  const std::string path = str(n, field.c_str());
  if (path.empty()) return std::string{};
  fs::path p(path);
  if (p.is_relative()) p = base_dir / p;
  auto content = read_file(p);
  if (!content) return make_error(Code::kInvalid, where + ": cannot read " + field + " file " + p.string());
  return *content;
}

std::string openssl_error() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

}  // namespace

Result<ClientConfig> parse_kubeconfig(const std::string& text, const std::string& base_dir, const std::string& source,
                                      const std::string& context_override) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return make_error(Code::kInvalid, source + ": not valid YAML: " + e.what());
  }
  if (!root || !root.IsMap()) return make_error(Code::kInvalid, source + ": not a kubeconfig (expected a mapping)");

  try {
    std::string context_name = context_override.empty() ? str(root, "current-context") : context_override;
    if (context_name.empty()) return make_error(Code::kInvalid, source + ": no current-context is set");
    const auto ctx = find_named(root["contexts"], context_name);
    if (!ctx) return make_error(Code::kInvalid, source + ": context \"" + context_name + "\" not found");
    const YAML::Node ctx_body = (*ctx)["context"];
    if (!ctx_body) return make_error(Code::kInvalid, source + ": context \"" + context_name + "\" has no body");

    const std::string cluster_name = str(ctx_body, "cluster");
    const auto cluster_entry = find_named(root["clusters"], cluster_name);
    if (!cluster_entry || !(*cluster_entry)["cluster"]) {
      return make_error(Code::kInvalid,
                        source + ": cluster \"" + cluster_name + "\" of context \"" + context_name + "\" not found");
    }
    const YAML::Node cluster = (*cluster_entry)["cluster"];
    const std::string where = source + ", cluster \"" + cluster_name + "\"";

    ClientConfig cfg;
    cfg.source = source + ", context " + context_name;
    cfg.default_namespace = str(ctx_body, "namespace");
    cfg.server = str(cluster, "server");
    if (cfg.server.empty()) return make_error(Code::kInvalid, where + ": server is not set");
    if (cfg.server.rfind("https://", 0) != 0) {
      return make_error(Code::kInvalid, where + ": server " + cfg.server + " is not an https:// URL");
    }
    while (!cfg.server.empty() && cfg.server.back() == '/') cfg.server.pop_back();
    if (cluster["insecure-skip-tls-verify"] && cluster["insecure-skip-tls-verify"].as<bool>()) {
      return make_error(Code::kInvalid,
                        where + ": insecure-skip-tls-verify is set; TLS verification cannot be disabled");
    }
    auto ca = file_or_data(cluster, "certificate-authority", base_dir, where);
    if (!ca.ok()) return ca.error();
    cfg.ca_pem = std::move(ca).value();

    const std::string user_name = str(ctx_body, "user");
    if (!user_name.empty()) {
      const auto user_entry = find_named(root["users"], user_name);
      if (!user_entry) {
        return make_error(Code::kInvalid,
                          source + ": user \"" + user_name + "\" of context \"" + context_name + "\" not found");
      }
      const YAML::Node user = (*user_entry)["user"];
      const std::string uwhere = source + ", user \"" + user_name + "\"";
      if (user) {
        if (user["exec"] || user["auth-provider"]) {
          return make_error(Code::kInvalid, uwhere +
                                                ": exec and auth-provider credentials are not supported; "
                                                "use a token, tokenFile or client certificate");
        }
        auto cert = file_or_data(user, "client-certificate", base_dir, uwhere);
        if (!cert.ok()) return cert.error();
        auto key = file_or_data(user, "client-key", base_dir, uwhere);
        if (!key.ok()) return key.error();
        cfg.client_cert_pem = std::move(cert).value();
        cfg.client_key_pem = std::move(key).value();
        if (cfg.client_cert_pem.empty() != cfg.client_key_pem.empty()) {
          return make_error(Code::kInvalid,
                            uwhere + (cfg.client_cert_pem.empty() ? ": client-key is set without client-certificate"
                                                                  : ": client-certificate is set without client-key"));
        }
        cfg.token = str(user, "token");
        std::string token_file = str(user, "tokenFile");
        if (!token_file.empty()) {
          fs::path p(token_file);
          if (p.is_relative()) p = fs::path(base_dir) / p;
          // The error_code form: a name the file system refuses (too long, ...) is
          // an answer, not an exception.
          std::error_code ec;
          if (!fs::exists(p, ec)) {
            return make_error(Code::kInvalid, uwhere + ": tokenFile " + p.string() +
                                                  (ec ? " cannot be checked: " + ec.message() : " does not exist"));
          }
          cfg.token_file = p.string();
        }
        if (user["username"] || user["password"]) {
          return make_error(Code::kInvalid, uwhere + ": basic authentication is not supported");
        }
      }
    }
    if (auto st = validate_tls_material(cfg); !st.ok()) {
      return make_error(st.error().code, source + ": " + st.error().message);
    }
    return cfg;
  } catch (const YAML::Exception& e) {
    return make_error(Code::kInvalid, source + ": unexpected structure: " + e.what());
  }
}

Result<ClientConfig> load_kubeconfig(const std::string& path, const std::string& context) {
  auto text = read_file(path);
  if (!text) return make_error(Code::kInvalid, "kubeconfig " + path + " cannot be read");
  const fs::path dir = fs::absolute(fs::path(path)).parent_path();
  return parse_kubeconfig(*text, dir.string(), "kubeconfig " + path, context);
}

Result<ClientConfig> load_in_cluster(const std::string& sa_dir) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (host == nullptr || port == nullptr || *host == '\0' || *port == '\0') {
    return make_error(Code::kInvalid,
                      "in-cluster config: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set");
  }
  ClientConfig cfg;
  cfg.source = "in-cluster service account " + sa_dir;
  std::string h(host);
  if (h.find(':') != std::string::npos) h = "[" + h + "]";  // IPv6 literal
  cfg.server = "https://" + h + ":" + port;
  const fs::path dir(sa_dir);
  auto ca = read_file(dir / "ca.crt");
  if (!ca) return make_error(Code::kInvalid, "in-cluster config: cannot read " + (dir / "ca.crt").string());
  cfg.ca_pem = *ca;
  if (!fs::exists(dir / "token")) {
    return make_error(Code::kInvalid, "in-cluster config: cannot read " + (dir / "token").string());
  }
  cfg.token_file = (dir / "token").string();
  if (auto ns = read_file(dir / "namespace")) {
    cfg.default_namespace = *ns;
    while (!cfg.default_namespace.empty() && std::isspace(static_cast<unsigned char>(cfg.default_namespace.back()))) {
      cfg.default_namespace.pop_back();
    }
  }
  if (auto st = validate_tls_material(cfg); !st.ok()) return st.error();
  return cfg;
}

Result<ClientConfig> load_default(const std::string& explicit_path, const std::string& context) {
  if (!explicit_path.empty()) return load_kubeconfig(explicit_path, context);
  if (const char* env = std::getenv("KUBECONFIG"); env != nullptr && *env != '\0') {
    std::stringstream ss(env);
    std::string entry;
    std::string tried;
    while (std::getline(ss, entry, ':')) {
      if (entry.empty()) continue;
      std::error_code ec;  // a name the file system refuses counts as missing
      if (fs::exists(entry, ec)) return load_kubeconfig(entry, context);
      tried += (tried.empty() ? "" : ", ") + entry;
    }
    return make_error(Code::kInvalid, "$KUBECONFIG names no existing file (" + tried + ")");
  }
  if (std::getenv("KUBERNETES_SERVICE_HOST") != nullptr && context.empty()) return load_in_cluster();
  if (const char* home = std::getenv("HOME"); home != nullptr) {
    const fs::path p = fs::path(home) / ".kube" / "config";
    if (fs::exists(p)) return load_kubeconfig(p.string(), context);
  }
  return make_error(Code::kInvalid,
                    "no Kubernetes configuration found: pass --kubeconfig, set $KUBECONFIG, "
                    "run in a cluster, or create ~/.kube/config");
}

Status validate_tls_material(const ClientConfig& cfg) {
  ERR_clear_error();
  if (!cfg.ca_pem.empty()) {
    BIO* bio = BIO_new_mem_buf(cfg.ca_pem.data(), static_cast<int>(cfg.ca_pem.size()));
    X509* ca = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    if (ca == nullptr)
      return make_error(Code::kInvalid, "certificate-authority is not a PEM certificate (" + openssl_error() + ")");
    X509_free(ca);
  }
  if (!cfg.client_cert_pem.empty()) {
    BIO* cbio = BIO_new_mem_buf(cfg.client_cert_pem.data(), static_cast<int>(cfg.client_cert_pem.size()));
    X509* cert = PEM_read_bio_X509(cbio, nullptr, nullptr, nullptr);
    BIO_free(cbio);
    if (cert == nullptr) {
      return make_error(Code::kInvalid, "client-certificate is not a PEM certificate (" + openssl_error() + ")");
    }
    BIO* kbio = BIO_new_mem_buf(cfg.client_key_pem.data(), static_cast<int>(cfg.client_key_pem.size()));
    EVP_PKEY* key = PEM_read_bio_PrivateKey(kbio, nullptr, nullptr, nullptr);
    BIO_free(kbio);
    if (key == nullptr) {
      X509_free(cert);
      return make_error(Code::kInvalid, "client-key is not a PEM private key (" + openssl_error() + ")");
    }
    const bool match = X509_check_private_key(cert, key) == 1;
    EVP_PKEY_free(key);
    X509_free(cert);
    ERR_clear_error();
    if (!match) return make_error(Code::kInvalid, "client-key does not match client-certificate");
  }
  return ok_status();
}

}  // namespace sot::kube
