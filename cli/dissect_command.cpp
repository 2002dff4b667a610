// pspdr dissect: every header field of every packet of a trace, one JSON object per
// line (pcapkit's names; docs/dissect.md), through the same dissector the observer uses.
#include <unistd.h>

#include <cstdio>
#include <limits>
#include <memory>
#include <optional>
#include <string>

#include "cli/command.hpp"
#include "cli/command_line.hpp"
#include "cli/options.hpp"
#include "cli/packet_filter.hpp"
#include "cli/trace_input.hpp"
#include "shared/json_writer.hpp"
#include "shared/packet_json.hpp"

namespace pspdr {
namespace {

constexpr const char* kProg = "pspdr dissect";
constexpr const char* kDescription =
    R"(Print every packet of a pcap or pcapng trace as one JSON object per line: frame number
(counted as tshark counts, from 1, filtered-out frames included), time and lengths;
IPv4/IPv6 header fields; UDP, ICMP (with the headers an error quotes) and TCP with every
header field and every option decoded with its own fields, named as in pcapkit. A
malformed option is printed with "malformed" and the reason, never skipped. See
docs/dissect.md for every field.
)";
constexpr const char* kEpilog =
    R"(Exit status: 0 on success (also when a damaged trace was read up to the damage),
1 if the trace cannot be read or the output cannot be written, 2 on bad options.
)";

struct Settings {
  std::string input, output, filter;
  uint64_t limit = std::numeric_limits<uint64_t>::max();
  bool quiet = false;
};

// Parses argv into `s`; nullopt to go on, else the exit status.
std::optional<int> parse(int argc, char** argv, Settings& s) {
  CommandLine cl(kProg, kDescription, kEpilog);
  cl.add_option("-i,--input", s.input, "the trace (pcap or pcapng, detected from its content)")
      ->type_name("TRACE")
      ->required();
  cl.add_option("--filter", s.filter,
                "only frames matching this tcpdump filter (pcap-filter(7)), e.g. \"tcp port 80\" "
                "or \"tcp[tcpflags] & tcp-syn != 0\"")
      ->type_name("EXPR");
  cl.add_count("--limit", s.limit, 1, std::numeric_limits<uint64_t>::max(),
               "stop after printing N packets");
  cl.add_option("--output", s.output, "write to FILE (default: standard output)")
      ->type_name("FILE");
  cl.add_flag("-q,--quiet", s.quiet, "no progress or summary on standard error");
  return cl.parse_args(argc, argv);
}

}  // namespace

int dissect_command(int argc, char** argv) {
  Settings s;
  if (std::optional<int> status = parse(argc, argv, s)) return *status;
  PacketFilter filter(s.filter);
  std::string error;
  if (!filter.check(LinkType::ethernet, error))  // syntax errors, before any output
    return options::usage_error(kProg, "bad --filter '" + s.filter + "': " + error);
  std::unique_ptr<TraceFile> trace = trace_input::open(kProg, s.input);
  if (!trace) return exit_status::failure;
  FILE* out = options::open_output(kProg, s.output);
  if (!out) return exit_status::failure;

  trace_input::Progress progress(kProg, *trace, !s.quiet && isatty(STDERR_FILENO));
  JsonWriter json;
  bool ok = true;
  uint64_t frames = 0, printed = 0;
  Frame frame;
  while (printed < s.limit && trace->next(frame)) {
    ++frames;
    progress.update(frames, trace->offset());
    if (frames == 1 && !filter.check(frame.link, error)) {
      std::fprintf(stderr, "%s: --filter '%s' does not apply to %s frames: %s\n", kProg,
                   s.filter.c_str(), std::string(link_type_name(frame.link)).c_str(),
                   error.c_str());
      ok = false;
      break;
    }
    if (!filter.matches(frame)) continue;
    write_packet_json(json, frames, frame);
    json.end_line();
    ++printed;
    if (json.size() >= (1 << 16)) {
      ok = std::fwrite(json.text().data(), 1, json.size(), out) == json.size() && ok;
      json.clear();
    }
  }
  ok = std::fwrite(json.text().data(), 1, json.size(), out) == json.size() && ok;
  progress.finish(frames);

  bool written = options::close_output(kProg, out, ok, s.output);
  trace_input::report_problems(kProg, *trace, "dissected");
  if (!s.quiet)
    std::fprintf(stderr, "%s: %llu frames read, %llu printed\n", kProg, (unsigned long long)frames,
                 (unsigned long long)printed);
  return written ? exit_status::ok : exit_status::failure;
}

}  // namespace pspdr
