// libFuzzer: an option list through the walker, the summary the chains read and the
// per-kind decoder. Each option decoded without a problem must build (with the builder)
// to an option of its length whose fields decode to the same build again: the builder
// and the decoder agree on every field (reserved bits, which the decoder does not keep,
// are the only bytes allowed to differ from the input).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "shared/builder.hpp"
#include "shared/tcp.hpp"
#include "shared/tcp_option_fields.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> list(data, data + size);
  pspdr::Bytes bytes{list.data(), uint32_t(list.size())};
  pspdr::TcpOptionSummary summary;
  pspdr::summarize_tcp_options(bytes, summary);
  pspdr::TcpOptionWalker walker(bytes);
  pspdr::TcpOption option;
  while (walker.next(option)) {
    pspdr::TcpOptionFields fields = pspdr::decode_tcp_option(option);
    if (fields.malformed || option.kind <= 1) continue;
    pspdr::build::Buffer built = pspdr::build::opt::encode(fields);
    if (built.size() != option.length) __builtin_trap();
    pspdr::TcpOptionWalker again({built.data(), uint32_t(built.size())});
    pspdr::TcpOption rebuilt;
    if (!again.next(rebuilt)) __builtin_trap();
    pspdr::TcpOptionFields refields = pspdr::decode_tcp_option(rebuilt);
    if (refields.malformed || refields.fields.index() != fields.fields.index() ||
        pspdr::build::opt::encode(refields) != built)
      __builtin_trap();
  }
  return 0;
}
