// pspdr metadata: PATHspider's metadata command (its master branch): for each results
// file, FILE.meta.json in the PTO v3 format -- the campaign's first and last time and the
// file type -- so that results go to a Path Transparency Observatory as PATHspider's do.
#include <simdjson.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cli/command.hpp"
#include "cli/command_line.hpp"
#include "cli/options.hpp"
#include "shared/json_writer.hpp"

namespace pspdr {
namespace {

constexpr const char* kProg = "pspdr metadata";
constexpr const char* kDescription =
    R"(Create PTOv3 metadata files from results: for each INPUTFILE (pspdr measure's or
PATHspider's output, plain or .bz2/.gz/.xz/.zst), INPUTFILE.meta.json holding
_time_start and _time_end (the earliest "time.from" and the latest "time.to" of its
lines, to the second) and _file_type, as PATHspider's metadata command writes them.
)";
constexpr const char* kEpilog =
    R"(Lines without "time" (a job pspdr could not measure: its line has an "error") are
counted and left out; PATHspider's command stops at them.
)";

// A time as PATHspider writes it ("2026-12-01 18:41:59.343194") in PTO's form
// ("2026-12-01T18:41:59Z"); "" for anything else.
std::string pto_time(std::string_view t) {
  auto digits = [&](size_t from, size_t n) {
    for (size_t i = from; i < from + n; ++i)
      if (t[i] < '0' || t[i] > '9') return false;
    return true;
  };
  if (t.size() < 19 || !digits(0, 4) || t[4] != '-' || !digits(5, 2) || t[7] != '-' ||
      !digits(8, 2) || (t[10] != ' ' && t[10] != 'T') || !digits(11, 2) || t[13] != ':' ||
      !digits(14, 2) || t[16] != ':' || !digits(17, 2))
    return "";
  return std::string(t.substr(0, 10)) + "T" + std::string(t.substr(11, 8)) + "Z";
}

struct Span {
  std::string start, end;  // PTO form; equal-width strings compare as times
  uint64_t lines = 0, untimed = 0;
};

bool read_span(const std::string& path, Span& span) {
  FILE* in = options::open_input(kProg, path);
  if (!in) return false;
  simdjson::dom::parser parser;
  char* line = nullptr;
  size_t cap = 0;
  for (ssize_t n; (n = getline(&line, &cap, in)) > 0;) {
    ++span.lines;
    simdjson::dom::element doc;
    std::string_view from, to;
    std::string a, b;
    if (parser.parse(line, size_t(n)).get(doc) || doc["time"]["from"].get(from) ||
        doc["time"]["to"].get(to) || (a = pto_time(from)).empty() || (b = pto_time(to)).empty()) {
      ++span.untimed;
      continue;
    }
    if (span.start.empty() || a < span.start) span.start = a;
    if (span.end.empty() || b > span.end) span.end = b;
  }
  std::free(line);
  options::close_input(in);
  return true;
}

// PTO metadata as PATHspider writes it (json.dump, indent 2).
std::string metadata_json(const Span& span,
                          const std::vector<std::pair<std::string, std::string>>& extra) {
  std::vector<std::pair<std::string, std::string>> fields = {
      {"_time_start", span.start},
      {"_time_end", span.end},
      {"_file_type", "pathspider-v2-ndjson-bz2"}};
  for (const auto& tag : extra) {
    auto same = [&](const auto& f) { return f.first == tag.first; };
    if (auto it = std::find_if(fields.begin(), fields.end(), same); it != fields.end())
      it->second = tag.second;
    else
      fields.push_back(tag);
  }
  JsonWriter w;
  w.raw("{\n");
  for (size_t i = 0; i < fields.size(); ++i) {
    w.raw("  ");
    w.string_value(fields[i].first);
    w.raw(": ");
    w.string_value(fields[i].second);
    w.raw(i + 1 < fields.size() ? ",\n" : "\n");
  }
  w.raw("}");
  return std::string(w.text());
}

}  // namespace

int metadata_command(int argc, char** argv) {
  std::vector<std::pair<std::string, std::string>> extra;
  std::string filetype = "ps-ndjson";
  std::vector<std::string> files;
  CommandLine cl(kProg, kDescription, kEpilog);
  cl.add_choice("-t,--filetype", filetype, {{"ps-ndjson", "ps-ndjson"}},
                "filetype [ps-ndjson] (the only one). (Default: ps-ndjson)", "FILETYPE");
  cl.add_checked(
      "--extra", "TAG:VAL", "additional metadata tags, written as strings",
      [&](const std::string& tag) {
        size_t colon = tag.find(':');
        if (colon == std::string::npos || tag.find(':', colon + 1) != std::string::npos)
          return false;
        extra.emplace_back(tag.substr(0, colon), tag.substr(colon + 1));
        return true;
      },
      "TAG:VAL", CommandLine::Values::many);
  cl.add_option("INPUTFILE", files, "input files");
  if (std::optional<int> status = cl.parse_args(argc, argv)) return *status;
  int status = exit_status::ok;
  for (const std::string& path : files) {
    Span span;
    if (!read_span(path, span)) {
      status = exit_status::failure;
      continue;
    }
    if (span.start.empty()) {
      std::fprintf(stderr, "%s: %s: no line with a \"time\" (%llu lines): no metadata written\n",
                   kProg, path.c_str(), (unsigned long long)span.lines);
      status = exit_status::failure;
      continue;
    }
    std::string meta = path + ".meta.json";
    FILE* out = std::fopen(meta.c_str(), "w");
    if (!out) {
      std::fprintf(stderr, "%s: cannot write %s: %s\n", kProg, meta.c_str(), std::strerror(errno));
      status = exit_status::failure;
      continue;
    }
    std::string text = metadata_json(span, extra);
    bool ok = std::fwrite(text.data(), 1, text.size(), out) == text.size();
    if (!options::close_output(kProg, out, ok, meta)) status = exit_status::failure;
    std::fprintf(stderr, "%s: %s: %llu lines (%llu without a time), %s to %s\n", kProg,
                 meta.c_str(), (unsigned long long)span.lines, (unsigned long long)span.untimed,
                 span.start.c_str(), span.end.c_str());
  }
  return status;
}

}  // namespace pspdr
