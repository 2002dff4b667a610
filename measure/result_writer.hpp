// The result writer: one line per job -- the job's own members, then what the spider
// adds (conditions, flows, errors) -- written through the JSON writer, whole or not at
// all.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string_view>

#include "measure/job_reader.hpp"
#include "shared/json_writer.hpp"

namespace pspdr {

class ResultWriter {
 public:
  explicit ResultWriter(FILE* out) : out_(out) {}

  // Writes `job`'s result line: its members but `replaced`, then what add(JsonWriter&)
  // writes. After a failed write (a full disk) nothing more is written: the output holds
  // complete lines only, for --resume.
  template <class Fn>
  void write(const Job& job, Fn&& add, std::span<const std::string_view> replaced = {}) {
    if (!ok_) return;
    w_.clear();
    begin_result(w_, job, replaced);
    add(w_);
    w_.end_object();
    w_.end_line();
    write_line();
  }

  uint64_t lines() const { return lines_; }
  bool ok() const { return ok_; }

 private:
  void write_line();

  FILE* out_;
  JsonWriter w_;
  uint64_t lines_ = 0;
  bool ok_ = true;
};

}  // namespace pspdr
