// pspdr trace: follow TCP streams. Splits a trace into its TCP streams -- numbered and
// grouped as tshark's tcp.stream, labelled as pcapkit's TraceFlow -- with one file per
// stream and an index line per stream (docs/trace.md).
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>

#include "cli/command.hpp"
#include "cli/command_line.hpp"
#include "cli/options.hpp"
#include "cli/trace_input.hpp"
#include "tracing/stream_files.hpp"
#include "tracing/tcp_stream_tracer.hpp"

namespace pspdr {
namespace {

constexpr const char* kProg = "pspdr trace";
constexpr const char* kDescription =
    R"(Follow TCP streams: split a pcap or pcapng trace into its TCP streams, both directions
of a 4-tuple together and a new stream where a SYN reuses the 4-tuple with another
initial sequence number -- the streams tshark numbers as tcp.stream, with the same
numbers. Each stream's frames go to DIR/LABEL.pcap (or .json), LABEL being pcapkit's
flow label {src}_{srcport}-{dst}_{dstport}-{first timestamp}; each stream gets one
index line (JSON): {"stream", "label", "fpout", "index": [frame numbers], "src",
"srcport", "dst", "dstport", "packets", "first", "last"}, written when the stream
ends. See docs/trace.md.
)";
constexpr const char* kEpilog =
    R"(Exit status: 0 on success (also when a damaged trace was read up to the damage),
1 if the trace cannot be read or an output cannot be written, 2 on bad options.
)";

struct Settings {
  std::string input, output_dir = "trace.out", index;
  StreamFormat format = StreamFormat::pcap;
  double idle = 300;
  size_t max_open = 256;
  bool quiet = false;
};

// Parses argv into `s`; nullopt to go on, else the exit status.
std::optional<int> parse(int argc, char** argv, Settings& s) {
  CommandLine cl(kProg, kDescription, kEpilog);
  cl.add_option("-i,--input", s.input, "the trace (pcap or pcapng, detected from its content)")
      ->type_name("TRACE")
      ->required();
  cl.add_option("--output-dir", s.output_dir,
                "where the stream files go (default: trace.out; created)")
      ->type_name("DIR");
  cl.add_choice(
      "--format", s.format,
      {{"pcap", StreamFormat::pcap}, {"json", StreamFormat::json}, {"none", StreamFormat::none}},
      "pcap (default): each stream's frames as captured; json: one `pspdr dissect` "
      "line per frame; none: the index only",
      "FORMAT");
  cl.add_option("--index", s.index, "write the index to FILE (default: standard output)")
      ->type_name("FILE");
  cl.add_seconds("--idle", s.idle,
                 "a stream without packets for this long (trace time) ends; memory stays "
                 "bounded by the streams active at once (default 300)");
  cl.add_count("--max-open-files", s.max_open, 1, 1u << 20,
               "stream files open at once (default 256); others are closed and reopened to "
               "append when their stream goes on");
  cl.add_flag("-q,--quiet", s.quiet, "no progress or summary on standard error");
  return cl.parse_args(argc, argv);
}

// The output directory, created if absent; false after a one-line error.
bool make_output_dir(const std::string& dir) {
  if (mkdir(dir.c_str(), 0755) == 0 || errno == EEXIST) {
    struct stat st;
    if (stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && access(dir.c_str(), W_OK) == 0)
      return true;
    errno = errno ? errno : ENOTDIR;
  }
  std::fprintf(stderr, "%s: cannot write stream files to %s: %s\n", kProg, dir.c_str(),
               std::strerror(errno));
  return false;
}

}  // namespace

int trace_command(int argc, char** argv) {
  Settings s;
  if (std::optional<int> status = parse(argc, argv, s)) return *status;
  std::unique_ptr<TraceFile> trace = trace_input::open(kProg, s.input);
  if (!trace) return exit_status::failure;
  if (s.format != StreamFormat::none && !make_output_dir(s.output_dir)) return exit_status::failure;
  FILE* index = options::open_output(kProg, s.index);
  if (!index) return exit_status::failure;

  trace_input::Progress progress(kProg, *trace, !s.quiet && isatty(STDERR_FILENO));
  StreamFiles files(s.output_dir, s.format, s.max_open, index);
  TcpStreamTracer tracer(files, s.idle);
  uint64_t frames = 0, traced = 0;
  Frame frame;
  Packet packet;
  while (files.error().empty() && trace->next(frame)) {
    ++frames;
    progress.update(frames, trace->offset());
    dissect(frame, packet);
    traced += tracer.add(frames, frame, packet);
  }
  tracer.finish_all();
  progress.finish(frames);

  bool ok = files.error().empty();
  if (!ok) std::fprintf(stderr, "%s: %s; tracing stopped\n", kProg, files.error().c_str());
  // Index write errors are in files.error() already; this catches the final flush.
  bool written = options::close_output(kProg, index, true, s.index);
  trace_input::report_problems(kProg, *trace, "traced");
  if (!s.quiet)
    std::fprintf(stderr, "%s: %llu frames read, %llu in %llu TCP streams, %llu files written\n",
                 kProg, (unsigned long long)frames, (unsigned long long)traced,
                 (unsigned long long)tracer.streams(), (unsigned long long)files.files_written());
  return written && ok ? exit_status::ok : exit_status::failure;
}

}  // namespace pspdr
