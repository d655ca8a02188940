// TsharkCheck: runs tshark (read-only, on a capture file) and reports, per frame, which
// ASAP/ENRP messages it decoded, any extra fields asked for, and every malformed mark and
// expert-info item, so tests can assert that what poolreg writes is well formed.
//
// Never captures from an interface: tshark is always run as `tshark -n -r FILE ...`.
// Checksum validation is switched on (IPv4, UDP, TCP, SCTP CRC32c), so a bad checksum shows up
// as an expert item of severity error. SCTP over UDP is decoded on the ports in
// TsharkOptions::sctp_over_udp_ports (RFC 6951 port 9899 by default).
//
// Independent of GoogleTest; any test or tool can link poolreg_tshark_check_dep. run_tshark keeps
// no state (each call spawns its own tshark process), so calls from several threads are fine.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace poolreg::testing {

// Wireshark expert-info severities (values of the field _ws.expert.severity).
enum class ExpertSeverity : std::uint32_t {
  kComment = 0x00100000,
  kChat = 0x00200000,
  kNote = 0x00400000,
  kWarn = 0x00600000,
  kError = 0x00800000,
};

struct ExpertItem {
  std::uint32_t severity = 0;  // an ExpertSeverity value
  std::uint32_t group = 0;     // _ws.expert.group (e.g. 0x07000000 malformed, 0x01000000 checksum)
  std::string message;         // _ws.expert.message, e.g. "Malformed Packet (Exception occurred)"
  bool at_least(ExpertSeverity s) const noexcept { return severity >= static_cast<std::uint32_t>(s); }
};

enum class RSerPoolProtocol : std::uint8_t { kAsap, kEnrp };

struct DecodedMessage {
  RSerPoolProtocol protocol = RSerPoolProtocol::kAsap;
  int type = -1;    // asap.message_type / enrp.message_type
  int flags = -1;   // asap.message_flags / enrp.message_flags
  int length = -1;  // asap.message_length / enrp.message_length
};

struct FrameReport {
  int number = 0;                        // frame.number, from 1
  std::string protocols;                 // frame.protocols, e.g. "eth:ethertype:ip:udp:sctp:asap"
  std::vector<DecodedMessage> messages;  // ASAP messages first, then ENRP, each in frame order
  std::vector<std::string> malformed;    // texts of _ws.malformed items; empty when well formed
  std::vector<ExpertItem> experts;       // every expert-info item, whatever its severity
  // Every field tshark reported for this frame (the default set plus TsharkOptions::fields),
  // each as tshark prints it with -T json: e.g. "1", "0x12345678", "4563686f506f6f6c".
  std::map<std::string, std::vector<std::string>> fields;

  // Values of `name` in this frame; empty when absent.
  const std::vector<std::string>& field(const std::string& name) const;
  // Expert items of severity >= `min` (kWarn: warnings and errors).
  std::vector<ExpertItem> problems(ExpertSeverity min = ExpertSeverity::kWarn) const;
  bool well_formed(ExpertSeverity min = ExpertSeverity::kWarn) const {
    return malformed.empty() && problems(min).empty();
  }
  // One line for test failure messages.
  std::string describe() const;
};

struct TsharkOptions {
  std::vector<std::uint16_t> sctp_over_udp_ports = {9899};  // each becomes -d udp.port==P,sctp
  bool validate_checksums = true;
  std::vector<std::string> fields;            // extra -e fields, e.g. "asap.pool_handle_pool_handle"
  std::vector<std::string> extra_args;        // appended as is, e.g. {"-o", "sctp.tsn_analysis:FALSE"}
  std::optional<std::string> display_filter;  // -Y
  int timeout_ms = 20000;                     // tshark is killed after this
  // Point WIRESHARK_CONFIG_DIR at a missing directory so a developer's personal Wireshark
  // preferences (disabled protocols, decode-as) cannot change the result.
  bool ignore_personal_config = true;
};

struct TsharkReport {
  bool ok = false;    // tshark ran, exited 0 and its output parsed
  std::string error;  // why not, when !ok
  int exit_status = -1;
  std::string stderr_text;           // tshark's stderr (the "running as root" notice lands here)
  std::vector<std::string> command;  // argv used, for messages
  std::vector<FrameReport> frames;

  // Frames that carry a malformed mark or an expert item >= `min`.
  std::vector<const FrameReport*> problem_frames(ExpertSeverity min = ExpertSeverity::kWarn) const;
  const FrameReport* frame(int number) const;  // nullptr when absent
};

// Absolute path of the tshark executable found on PATH, or nullopt.
std::optional<std::string> find_tshark();

// The fields always requested: frame.number, frame.protocols, asap/enrp message type, flags and
// length, _ws.malformed, _ws.expert, _ws.expert.severity, _ws.expert.group, _ws.expert.message.
const std::vector<std::string>& default_tshark_fields();

// Runs `tshark -n -r pcap_path -T json -e ...` and parses its output.
TsharkReport run_tshark(const std::string& tshark_path, const std::string& pcap_path,
                        const TsharkOptions& options = {});

}  // namespace poolreg::testing
