// pspdr trace: follow TCP streams. Splits a trace into its TCP streams -- numbered and
// grouped as tshark's tcp.stream, labelled as pcapkit's TraceFlow -- with one file per
// stream and an index line per stream (docs/trace.md).
#include <getopt.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "cli/command.hpp"
#include "cli/options.hpp"
#include "cli/trace_input.hpp"
#include "tracing/stream_files.hpp"
#include "tracing/tcp_stream_tracer.hpp"

namespace pspdr {
namespace {

constexpr const char* kProg = "pspdr trace";
constexpr const char* kUsage =
    R"(usage: pspdr trace [-h] -i TRACE [--output-dir DIR] [--format pcap|json|none]
                   [--index FILE] [--idle SECONDS] [--max-open-files N] [-q]

Follow TCP streams: split a pcap or pcapng trace into its TCP streams, both directions
of a 4-tuple together and a new stream where a SYN reuses the 4-tuple with another
initial sequence number -- the streams tshark numbers as tcp.stream, with the same
numbers. Each stream's frames go to DIR/LABEL.pcap (or .json), LABEL being pcapkit's
flow label {src}_{srcport}-{dst}_{dstport}-{first timestamp}; each stream gets one
index line (JSON): {"stream", "label", "fpout", "index": [frame numbers], "src",
"srcport", "dst", "dstport", "packets", "first", "last"}, written when the stream
ends. See docs/trace.md.

options:
  -h, --help            show this help and exit
  -i, --input TRACE     the trace (pcap or pcapng, detected from its content)
  --output-dir DIR      where the stream files go (default: trace.out; created)
  --format FORMAT       pcap (default): each stream's frames as captured;
                        json: one `pspdr dissect` line per frame; none: index only
  --index FILE          write the index to FILE (default: standard output)
  --idle SECONDS        a stream without packets for this long (trace time) ends;
                        memory stays bounded by the streams active at once
                        (default 300)
  --max-open-files N    stream files open at once (default 256); others are closed
                        and reopened to append when their stream goes on
  -q, --quiet           no progress or summary on standard error

Exit status: 0 on success (also when a damaged trace was read up to the damage),
1 if the trace cannot be read or an output cannot be written, 2 on bad options.
)";

struct Settings {
  std::string input, output_dir = "trace.out", index;
  StreamFormat format = StreamFormat::pcap;
  double idle = 300;
  size_t max_open = 256;
  bool quiet = false;
};

bool parse_format(const char* text, StreamFormat& out) {
  for (auto [name, f] :
       {std::pair{"pcap", StreamFormat::pcap}, std::pair{"json", StreamFormat::json},
        std::pair{"none", StreamFormat::none}})
    if (std::strcmp(text, name) == 0) {
      out = f;
      return true;
    }
  return false;
}

// Parses argv into `s`; returns -1 to go on, else the exit status.
int parse(int argc, char** argv, Settings& s) {
  enum { kOutputDir = 256, kFormat, kIndex, kIdle, kMaxOpen };
  static const option long_opts[] = {
      {"help", no_argument, nullptr, 'h'},
      {"input", required_argument, nullptr, 'i'},
      {"output-dir", required_argument, nullptr, kOutputDir},
      {"format", required_argument, nullptr, kFormat},
      {"index", required_argument, nullptr, kIndex},
      {"idle", required_argument, nullptr, kIdle},
      {"max-open-files", required_argument, nullptr, kMaxOpen},
      {"quiet", no_argument, nullptr, 'q'},
      {nullptr, 0, nullptr, 0},
  };
  optind = 1;
  opterr = 0;
  for (int c; (c = getopt_long(argc, argv, "hi:q", long_opts, nullptr)) != -1;) {
    switch (c) {
      case 'h':
        std::fputs(kUsage, stdout);
        return exit_status::ok;
      case 'i':
        s.input = optarg;
        break;
      case kOutputDir:
        s.output_dir = optarg;
        break;
      case kFormat:
        if (!parse_format(optarg, s.format))
          return options::usage_error(
              kProg, std::string("bad --format '") + optarg + "' (pcap, json or none)");
        break;
      case kIndex:
        s.index = optarg;
        break;
      case kIdle:
        if (!options::parse_seconds(optarg, s.idle))
          return options::usage_error(kProg, std::string("bad --idle '") + optarg + "'");
        break;
      case kMaxOpen:
        if (!options::parse_count(optarg, 1, 1u << 20, s.max_open))
          return options::usage_error(kProg, std::string("bad --max-open-files '") + optarg + "'");
        break;
      case 'q':
        s.quiet = true;
        break;
      default:
        return options::usage_error(kProg, options::bad_option(argv));
    }
  }
  if (optind < argc) return options::usage_error(kProg, std::string("unexpected ") + argv[optind]);
  if (s.input.empty()) return options::usage_error(kProg, "a trace is needed: -i TRACE");
  return -1;
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
  if (int status = parse(argc, argv, s); status >= 0) return status;
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
    progress.update(frames);
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
