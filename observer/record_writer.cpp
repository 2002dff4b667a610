#include "observer/record_writer.hpp"

namespace pspdr {

void write_flow_record(JsonWriter& w, const ChainSet& chains, const Flow& flow) {
  w.begin_object();
  w.field("pkt_first", flow.pkt_first);
  chains.write(w, flow.rec);
  w.field("pkt_last", flow.pkt_last);
  w.end_object();
}

void NdjsonFlowWriter::emit(const Flow& flow) {
  write_flow_record(w_, chains_, flow);
  w_.end_line();
  ++records_;
  if (w_.buffer().size() > (1 << 20)) flush();
}

bool NdjsonFlowWriter::flush() {
  std::string& b = w_.buffer();
  bool ok = b.empty() || std::fwrite(b.data(), 1, b.size(), out_) == b.size();
  w_.clear();
  return ok && std::fflush(out_) == 0;
}

}  // namespace pspdr
