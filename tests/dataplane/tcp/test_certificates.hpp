// TestCertificates: a throw-away PKI for the TLS tests, made at run time with the `openssl` CLI
// (Debian package openssl, .ci/setup.sh) in a temp directory removed afterwards:
//   ca          the CA every legitimate party trusts
//   pr-a, pr-b  registrars (CN pr-a / pr-b, subjectAltName DNS pr-a.test / pr-b.test, IP 127.0.0.1)
//   client      a PE/PU (CN client, DNS client.test)
//   rogue       signed by another CA (otherca) but naming pr-b.test and 127.0.0.1: a stranger
// Used by tests/dataplane/tcp and tests/integration. Files: <dir>/<name>.pem (certificate) and <dir>/<name>.key (EC P-256 key). Two-day validity.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace poolreg::testing {

class TestCertificates {
 public:
  TestCertificates() : dir_(make_dir()) {
    ok_ = make_ca("ca") && make_ca("otherca") && make_leaf("pr-a", "ca", "IP:127.0.0.1,DNS:pr-a.test") &&
          make_leaf("pr-b", "ca", "IP:127.0.0.1,DNS:pr-b.test") && make_leaf("client", "ca", "DNS:client.test") &&
          make_leaf("rogue", "otherca", "IP:127.0.0.1,DNS:pr-b.test");
  }
  ~TestCertificates() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  TestCertificates(const TestCertificates&) = delete;
  TestCertificates& operator=(const TestCertificates&) = delete;

  bool ok() const noexcept { return ok_; }
  const std::string& dir() const noexcept { return dir_; }
  std::string cert(const std::string& name) const { return dir_ + "/" + name + ".pem"; }
  std::string key(const std::string& name) const { return dir_ + "/" + name + ".key"; }

 private:
  static std::string make_dir() {
    char tmpl[] = "/tmp/poolreg-pki-XXXXXX";
    const char* d = ::mkdtemp(tmpl);
    return d != nullptr ? d : "/tmp";
  }
  bool run(const std::string& command) const {
    return std::system((command + " >>" + dir_ + "/openssl.log 2>&1").c_str()) == 0;
  }
  bool make_ca(const std::string& name) const {
    return run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=" + name +
               "-authority -keyout " + key(name) + " -out " + cert(name));
  }
  bool make_leaf(const std::string& name, const std::string& ca, const std::string& san) const {
    const std::string csr = dir_ + "/" + name + ".csr";
    const std::string ext = dir_ + "/" + name + ".ext";
    std::ofstream(ext) << "subjectAltName=" << san << "\n";
    return run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=" + name + " -keyout " +
               key(name) + " -out " + csr) &&
           run("openssl x509 -req -days 2 -in " + csr + " -CA " + cert(ca) + " -CAkey " + key(ca) +
               " -CAcreateserial -extfile " + ext + " -out " + cert(name));
  }

  std::string dir_;
  bool ok_ = false;
};

}  // namespace poolreg::testing
