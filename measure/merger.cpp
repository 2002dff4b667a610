#include "measure/merger.hpp"

#include <string_view>

namespace pspdr {

MergeKey merge_key(uint8_t family, const uint8_t* addr, uint16_t sport, uint16_t dport,
                   uint8_t proto) {
  MergeKey k;
  std::memcpy(k.dst, addr, family == 4 ? 4 : 16);
  k.sport = sport;
  k.dport = dport;
  k.proto = proto;
  k.family = family;
  return k;
}

MergeKey merge_key(const Flow& flow) {
  const FlowKey& f = flow.key;
  return merge_key(f.version, f.dst, f.sport, f.dport, f.proto);
}

size_t MergeKeyHash::operator()(const MergeKey& k) const {
  return std::hash<std::string_view>()(
      std::string_view(reinterpret_cast<const char*>(&k), sizeof k));
}

}  // namespace pspdr
