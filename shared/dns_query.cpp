#include "shared/dns_query.hpp"

namespace pspdr {

std::vector<uint8_t> build_dns_query(uint16_t id, std::string_view name, uint16_t qtype) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty() || name.size() > 253) return {};
  std::vector<uint8_t> q = {uint8_t(id >> 8),
                            uint8_t(id),
                            0x01,
                            0x00,  // RD
                            0,
                            1,
                            0,
                            0,
                            0,
                            0,
                            0,
                            0};  // one question
  for (size_t start = 0; start <= name.size();) {
    size_t dot = name.find('.', start);
    if (dot == std::string_view::npos) dot = name.size();
    size_t len = dot - start;
    if (len == 0 || len > 63) return {};
    q.push_back(uint8_t(len));
    q.insert(q.end(), name.begin() + long(start), name.begin() + long(dot));
    start = dot + 1;
  }
  q.insert(q.end(), {0, uint8_t(qtype >> 8), uint8_t(qtype), 0, 1});  // root, type, IN
  return q;
}

bool dns_response_id(const uint8_t* data, size_t len, uint16_t& id) {
  if (len < 12 || !(data[2] & 0x80)) return false;
  id = uint16_t(data[0] << 8 | data[1]);
  return true;
}

}  // namespace pspdr
