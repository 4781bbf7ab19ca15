#include "kube/config.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <vector>

#include <doctest/doctest.h>

#include "unit/kube/test_certs.h"

using namespace sot::kube;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "sot-config-XXXXXX").string();
    path = mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path); }
  fs::path write(const std::string& name, const std::string& content) const {
    std::ofstream(path / name) << content;
    return path / name;
  }
};

std::string kubeconfig(const std::string& cluster_extra, const std::string& user_body,
                       const std::string& current = "ctx") {
  return "apiVersion: v1\nkind: Config\ncurrent-context: " + current +
         "\n"
         "clusters:\n- name: c1\n  cluster:\n    server: https://127.0.0.1:6443/\n" +
         cluster_extra +
         "contexts:\n- name: ctx\n  context:\n    cluster: c1\n    user: u1\n"
         "- name: other\n  context:\n    cluster: c1\n    user: u2\n"
         "users:\n- name: u1\n  user:\n" +
         user_body + "- name: u2\n  user:\n    token: second\n";
}

}  // namespace

TEST_CASE("kubeconfig with a bearer token and inline CA") {
  auto ca = sot::test::make_self_signed("ca");
  const std::string cfg_text =
      kubeconfig("    certificate-authority-data: " + sot::test::base64(ca.cert_pem) + "\n", "    token: abc123\n");
  auto cfg = parse_kubeconfig(cfg_text, "/nonexistent", "kubeconfig test");
  REQUIRE_MESSAGE(cfg.ok(), cfg.error().message);
  CHECK(cfg->server == "https://127.0.0.1:6443");  // trailing slash trimmed
  CHECK(cfg->token == "abc123");
  CHECK(cfg->ca_pem == ca.cert_pem);
  CHECK(cfg->client_cert_pem.empty());
  CHECK(cfg->source == "kubeconfig test, context ctx");
}

TEST_CASE("kubeconfig context override picks another user") {
  auto cfg = parse_kubeconfig(kubeconfig("", "    token: first\n"), "/", "t", "other");
  REQUIRE(cfg.ok());
  CHECK(cfg->token == "second");
}

TEST_CASE("the context's namespace is the client's default namespace") {
  std::string text = kubeconfig("", "    token: first\n");
  auto none = parse_kubeconfig(text, "/", "t");
  REQUIRE(none.ok());
  CHECK(none->default_namespace.empty());
  const std::string from = "    cluster: c1\n    user: u2\n";
  text.replace(text.find(from), from.size(), from + "    namespace: team-a\n");
  auto other = parse_kubeconfig(text, "/", "t", "other");
  REQUIRE(other.ok());
  CHECK(other->default_namespace == "team-a");
}

TEST_CASE("kubeconfig with client certificate files relative to the kubeconfig") {
  TempDir dir;
  auto client = sot::test::make_self_signed("admin");
  auto ca = sot::test::make_self_signed("ca");
  dir.write("ca.crt", ca.cert_pem);
  dir.write("admin.crt", client.cert_pem);
  dir.write("admin.key", client.key_pem);
  auto path = dir.write("config", kubeconfig("    certificate-authority: ca.crt\n",
                                             "    client-certificate: admin.crt\n    client-key: admin.key\n"));
  auto cfg = load_kubeconfig(path.string());
  REQUIRE_MESSAGE(cfg.ok(), cfg.error().message);
  CHECK(cfg->client_cert_pem == client.cert_pem);
  CHECK(cfg->client_key_pem == client.key_pem);
  CHECK(cfg->ca_pem == ca.cert_pem);
}

TEST_CASE("kubeconfig with client certificate data and tokenFile") {
  TempDir dir;
  auto client = sot::test::make_self_signed("admin");
  dir.write("token", "filetoken\n");
  auto path = dir.write("config", kubeconfig("", "    client-certificate-data: " + sot::test::base64(client.cert_pem) +
                                                     "\n    client-key-data: " + sot::test::base64(client.key_pem) +
                                                     "\n    tokenFile: token\n"));
  auto cfg = load_kubeconfig(path.string());
  REQUIRE_MESSAGE(cfg.ok(), cfg.error().message);
  CHECK(cfg->client_cert_pem == client.cert_pem);
  CHECK(cfg->token_file == (dir.path / "token").string());
}

TEST_CASE("broken kubeconfigs give errors that name what is wrong") {
  auto a = sot::test::make_self_signed("a");
  auto b = sot::test::make_self_signed("b");
  struct Case {
    std::string text;
    std::string expect;
  };
  const std::vector<Case> cases = {
      {"{{{ not yaml", "not valid YAML"},
      {"- a\n- b\n", "expected a mapping"},
      {"apiVersion: v1\nkind: Config\n", "no current-context"},
      {kubeconfig("", "    token: x\n", "missing"), "context \"missing\" not found"},
      {kubeconfig("    insecure-skip-tls-verify: true\n", "    token: x\n"), "insecure-skip-tls-verify"},
      {kubeconfig("    certificate-authority-data: '!!!'\n", "    token: x\n"),
       "certificate-authority-data is not valid base64"},
      {kubeconfig("    certificate-authority-data: " + sot::test::base64("hello") + "\n", "    token: x\n"),
       "certificate-authority is not a PEM certificate"},
      {kubeconfig("    certificate-authority: /no/such/ca.crt\n", "    token: x\n"),
       "cannot read certificate-authority file /no/such/ca.crt"},
      {kubeconfig("", "    client-certificate-data: " + sot::test::base64(a.cert_pem) + "\n"),
       "client-certificate is set without client-key"},
      {kubeconfig("", "    client-certificate-data: " + sot::test::base64(a.cert_pem) +
                          "\n    client-key-data: " + sot::test::base64(b.key_pem) + "\n"),
       "client-key does not match client-certificate"},
      {kubeconfig("", "    exec:\n      command: aws\n"), "exec and auth-provider credentials are not supported"},
      {kubeconfig("", "    tokenFile: /no/such/token\n"), "tokenFile /no/such/token does not exist"},
      {"current-context: ctx\ncontexts:\n- name: ctx\n  context:\n    cluster: nope\n", "cluster \"nope\""},
      {"current-context: ctx\nclusters:\n- name: c\n  cluster:\n    server: http://x\ncontexts:\n- name: ctx\n  "
       "context:\n    cluster: c\n",
       "is not an https:// URL"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.text);
    auto cfg = parse_kubeconfig(c.text, "/", "kubeconfig /x");
    REQUIRE_FALSE(cfg.ok());
    CHECK(cfg.error().code == Code::kInvalid);
    CHECK_MESSAGE(cfg.error().message.find(c.expect) != std::string::npos, cfg.error().message);
    CHECK(cfg.error().message.find("kubeconfig /x") == 0);
  }
}

TEST_CASE("a missing kubeconfig file is reported with its path") {
  auto cfg = load_kubeconfig("/no/such/kubeconfig");
  REQUIRE_FALSE(cfg.ok());
  CHECK(cfg.error().message == "kubeconfig /no/such/kubeconfig cannot be read");
}

TEST_CASE("in-cluster config reads the service-account files") {
  TempDir dir;
  auto ca = sot::test::make_self_signed("ca");
  dir.write("ca.crt", ca.cert_pem);
  dir.write("token", "sa-token");
  setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
  setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  auto cfg = load_in_cluster(dir.path.string());
  REQUIRE_MESSAGE(cfg.ok(), cfg.error().message);
  CHECK(cfg->server == "https://10.96.0.1:443");
  CHECK(cfg->token_file == (dir.path / "token").string());
  CHECK(cfg->ca_pem == ca.cert_pem);
  CHECK(cfg->default_namespace.empty());
  dir.write("namespace", "team-b\n");
  CHECK(load_in_cluster(dir.path.string())->default_namespace == "team-b");

  setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
  auto v6 = load_in_cluster(dir.path.string());
  REQUIRE(v6.ok());
  CHECK(v6->server == "https://[fd00::1]:443");

  auto missing = load_in_cluster((dir.path / "nothing").string());
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message.find("ca.crt") != std::string::npos);

  unsetenv("KUBERNETES_SERVICE_HOST");
  auto no_env = load_in_cluster(dir.path.string());
  REQUIRE_FALSE(no_env.ok());
  CHECK(no_env.error().message.find("KUBERNETES_SERVICE_HOST") != std::string::npos);
  unsetenv("KUBERNETES_SERVICE_PORT");
}

TEST_CASE("load_default prefers the explicit path, then $KUBECONFIG") {
  TempDir dir;
  auto path = dir.write("config", kubeconfig("", "    token: from-env\n"));
  setenv("KUBECONFIG", ("/missing/one:" + path.string()).c_str(), 1);
  auto cfg = load_default("");
  REQUIRE_MESSAGE(cfg.ok(), cfg.error().message);
  CHECK(cfg->token == "from-env");
  auto with_context = load_default("", "other");
  REQUIRE(with_context.ok());
  CHECK(with_context->token == "second");
  CHECK(load_default(path.string(), "other")->token == "second");
  auto explicit_missing = load_default("/no/such/file");
  CHECK_FALSE(explicit_missing.ok());
  setenv("KUBECONFIG", "/missing/a:/missing/b", 1);
  auto none = load_default("");
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().message.find("/missing/a, /missing/b") != std::string::npos);
  unsetenv("KUBECONFIG");
}

// Found while fuzzing (a hand-made input to test/fuzz/fuzz_kubeconfig): a
// tokenFile name longer than the file system allows threw filesystem_error out
// of parse_kubeconfig.
TEST_CASE("a tokenFile name the file system refuses is an error, not an exception") {
  Result<ClientConfig> cfg = make_error(Code::kInternal, "unset");
  CHECK_NOTHROW(cfg = parse_kubeconfig(kubeconfig("", "    tokenFile: " + std::string(5000, 'a') + "\n"), "/tmp", "t"));
  REQUIRE_FALSE(cfg.ok());
  CHECK(cfg.error().message.find("tokenFile") != std::string::npos);
}
