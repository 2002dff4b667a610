#include "chains/chain_set.hpp"

#include <stdexcept>

namespace pspdr {

void ChainSet::add(uint8_t id) {
  for (uint8_t have : ids())
    if (have == id)
      throw std::invalid_argument("chain '" + std::string(Chains::names[id]) + "' named twice");
  ids_[count_++] = id;
  auto push = [id](Phase& ph, bool has) {
    if (has) ph.ids[ph.n++] = id;
  };
  push(ip_, Chains::has_hook<Hook::ip>[id]);
  push(icmp_, Chains::has_hook<Hook::icmp>[id]);
  push(tcp_, Chains::has_hook<Hook::tcp>[id]);
  push(udp_, Chains::has_hook<Hook::udp>[id]);
}

ChainSet ChainSet::from_names(std::span<const std::string> names) {
  ChainSet set;
  for (const std::string& n : names) {
    auto id = Chains::find(n);
    if (!id || *id == kLoadedChain)
      throw std::invalid_argument("unknown chain '" + n + "' (see --list-chains)");
    set.add(*id);
  }
  return set;
}

std::vector<std::string_view> ChainSet::names() const {
  std::vector<std::string_view> out;
  for (uint8_t id : ids()) out.push_back(id == kLoadedChain ? loaded_->name : Chains::names[id]);
  return out;
}

ChainSet ChainSet::all() {
  ChainSet set;
  for (uint8_t id = 0; id < Chains::count; ++id)
    if (id != kLoadedChain) set.add(id);
  return set;
}

}  // namespace pspdr
