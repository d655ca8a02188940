// Writes the seed corpus of fuzz_metrics_request (built with FUZZ_SEEDS_METRICS: HTTP request
// heads, good and bad) or fuzz_control_request (FUZZ_SEEDS_CONTROL: control socket JSON lines as
// poolctl sends them, and broken ones). Usage: <generator> <directory>
#include <cstdio>
#include <string>

namespace {

#if defined(FUZZ_SEEDS_METRICS)
const char* const kSeeds[] = {
    "GET /metrics HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n",
    "HEAD /metrics?x=1 HTTP/1.0\r\n\r\n",
    "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
    "GET / HTTP/1.1\n\n",
    "GET /metrics\r\n\r\n",
    "GET  /metrics HTTP/1.1\r\n\r\n",
    "GET /metrics HTTP/1.1\r\nUser-Agent: Prometheus/2.45\r\n",
};
#elif defined(FUZZ_SEEDS_CONTROL)
const char* const kSeeds[] = {
    R"({"cmd":"echo","args":{"handle":"EchoPool","n":3}})",
    R"({"cmd":"pe","args":{"handle":"EchoPool","id":"0x1234"}})",
    R"({"cmd":"deregister","args":{"handle":"EchoPool","id":"0x1234"}})",
    R"({"cmd":"deregister","args":{"missing":true}})",
    R"({"cmd":"pe","args":{"id":7}})",
    R"({"cmd":"help"})",
    R"({"cmd":"nope","args":[]})",
    "{\"cmd\":\"echo\",\"args\":{\"s\":\"\xff\xfe\"}}\r",
    R"([1,2,{"cmd":"echo"}])",
    R"({"cmd":)",
};
#else
#error "define FUZZ_SEEDS_METRICS or FUZZ_SEEDS_CONTROL"
#endif

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <directory>\n", argv[0]);
    return 2;
  }
  int n = 0;
  for (const char* seed : kSeeds) {
    const std::string path = std::string(argv[1]) + "/seed" + std::to_string(n++);
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr) return 1;
    const std::string text(seed);
    const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
    if (std::fclose(f) != 0 || !ok) return 1;
  }
  return 0;
}
