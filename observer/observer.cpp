#include "observer/observer.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace pspdr {

Observer::Observer(const ChainSet& chains, const ObserverOptions& opts, FlowSink& sink)
    : chains_(chains),
      opts_(opts),
      sink_(sink),
      table_(opts.max_flows ? std::min(opts.initial_flows, opts.max_flows) : opts.initial_flows) {
  // Every pending bin lies within max(timeout) + 1 s of the clock: one lap of the wheel.
  double span = std::ceil(std::max(opts.idle_timeout, opts.expiry_timeout)) + 2;
  size_t slots = std::bit_ceil(size_t(std::max(span, 8.0)));
  idle_.heads.assign(slots, kNoFlow);
  expiry_.heads.assign(slots, kNoFlow);
  wheel_mask_ = slots - 1;
}

void Observer::wheel_add(Wheel& w, uint32_t id, int64_t bin) {
  Flow& f = table_[id];
  uint32_t& head = w.heads[uint64_t(bin) & wheel_mask_];
  f.bin = bin;
  f.timed = true;
  f.timer_prev = kNoFlow;
  f.timer_next = head;
  if (head != kNoFlow) table_[head].timer_prev = id;
  head = id;
}

void Observer::wheel_remove(Wheel& w, uint32_t id) {
  Flow& f = table_[id];
  if (!f.timed) return;
  if (f.timer_prev != kNoFlow)
    table_[f.timer_prev].timer_next = f.timer_next;
  else
    w.heads[uint64_t(f.bin) & wheel_mask_] = f.timer_next;
  if (f.timer_next != kNoFlow) table_[f.timer_next].timer_prev = f.timer_prev;
  f.timed = false;
}

void Observer::set_idle_bin(uint32_t id, int64_t bin) {
  Flow& f = table_[id];
  if (bin <= f.bin) return;  // a packet older than the flow's newest does not delay it
  wheel_remove(idle_, id);
  // A bin the clock has already passed is never visited again: PATHspider then keeps
  // the flow until the end of input, and so do we.
  if (bin > ptq_)
    wheel_add(idle_, id, bin);
  else
    f.bin = bin;
}

void Observer::complete(uint32_t id, int64_t expiry_bin) {
  Flow& f = table_[id];
  wheel_remove(idle_, id);
  f.state = Flow::State::expiring;
  wheel_add(expiry_, id, expiry_bin);
}

void Observer::emit(uint32_t id) {
  Flow& f = table_[id];
  wheel_remove(f.state == Flow::State::active ? idle_ : expiry_, id);
  sink_.emit(f);
  ++stats_.emitted;
  table_.erase(id);
}

void Observer::tick(double ts) {
  int64_t next = int64_t(std::ceil(ts));
  if (next <= ptq_) return;
  if (ptq_ == 0) {
    ptq_ = next;
    return;
  }
  // PATHspider visits each bin in (ptq, next] in turn; a flow going idle there is given
  // the expiry bin ptq + expiry (the clock is only advanced after the loop), so it is
  // emitted within this tick if that bin is reached, and never if it was already passed.
  int64_t prev = ptq_;
  int64_t expiry_bin = int64_t(std::ceil(double(prev) + opts_.expiry_timeout));
  int64_t laps = std::min<int64_t>(next - prev, int64_t(wheel_mask_ + 1));
  auto due = [&](const Flow& f) { return f.bin > prev && f.bin <= next; };
  for (int64_t b = prev + 1; b <= prev + laps; ++b) {
    size_t slot = uint64_t(b) & wheel_mask_;
    for (uint32_t id = idle_.heads[slot]; id != kNoFlow;) {
      Flow& f = table_[id];
      uint32_t following = f.timer_next;
      if (due(f)) {
        int64_t idle_bin = f.bin;
        complete(id, expiry_bin);
        if (idle_bin > expiry_bin)
          wheel_remove(expiry_, id);  // passed: held to the end
        else if (expiry_bin <= next)
          emit(id);
      }
      id = following;
    }
    for (uint32_t id = expiry_.heads[slot]; id != kNoFlow;) {
      uint32_t following = table_[id].timer_next;
      if (due(table_[id])) emit(id);
      id = following;
    }
  }
  ptq_ = next;
}

void Observer::on_frames(std::span<const Frame> frames) {
  // Frames are prefetched a burst ahead of their dissection, flows a few packets ahead
  // of their handling (their slot was prefetched when the burst was dissected).
  for (size_t i = 0; i < std::min(frames.size(), kBurst); ++i) __builtin_prefetch(frames[i].data);
  while (!frames.empty()) {
    size_t n = std::min(frames.size(), kBurst);
    for (size_t i = n; i < std::min(frames.size(), 2 * kBurst); ++i)
      __builtin_prefetch(frames[i].data);
    for (size_t i = 0; i < n; ++i) {
      Keyed& k = burst_[i];
      dissect(frames[i], k.packet);
      k.hash = flow_key_of(k.packet, k.key) ? k.key.symmetric_hash() : 0;
      table_.prefetch_slot(k.hash);
    }
    for (size_t i = 0; i < std::min(n, kFlowPrefetchAhead); ++i)
      table_.prefetch_flow(burst_[i].hash);
    for (size_t i = 0; i < n; ++i) {
      if (i + kFlowPrefetchAhead < n) table_.prefetch_flow(burst_[i + kFlowPrefetchAhead].hash);
      handle(burst_[i].packet, burst_[i].key, burst_[i].hash);
    }
    frames = frames.subspan(n);
  }
}

void Observer::handle(const Packet& p, const FlowKey& key, uint64_t hash) {
  ++stats_.packets;
  if (p.anomaly != Anomaly::none) {
    ++stats_.malformed;
    ++stats_.anomalies[size_t(p.anomaly)];
  }
  tick(std::max(p.frame.ts, p.frame.clock));
  if (!p.ip) {
    if (p.anomaly == Anomaly::none)
      ++stats_.non_ip;
    else
      ++stats_.skipped;
    return;
  }

  FlowTable::Match m = table_.find(key, hash);
  if (m.id == kNoFlow) {
    if (opts_.max_flows && table_.size() >= opts_.max_flows) evict_one();
    m.id = table_.insert(key, hash);
    m.rev = key.is_own_reverse();
    Flow& f = table_[m.id];
    f.pkt_first = p.frame.ts;
    chains_.new_flow(f.rec, p);
    ++stats_.flows;
  }
  Flow& f = table_[m.id];
  f.pkt_last = p.frame.ts;
  if (f.state == Flow::State::active)
    set_idle_bin(m.id, int64_t(std::ceil(p.frame.ts + opts_.idle_timeout)));
  if (!chains_.on_packet(f.rec, p, m.rev) && f.state == Flow::State::active)
    complete(m.id, int64_t(std::ceil(double(ptq_) + opts_.expiry_timeout)));
}

void Observer::evict_one() {
  // The wheels order flows by when they would time out: the first occupied slot after
  // the clock holds the flows idle longest. Completed flows go before live ones.
  for (Wheel* w : {&expiry_, &idle_})
    for (uint64_t b = uint64_t(ptq_) + 1; b <= uint64_t(ptq_) + wheel_mask_ + 1; ++b)
      if (uint32_t id = w->heads[b & wheel_mask_]; id != kNoFlow) {
        ++stats_.evicted;
        return emit(id);
      }
  // Only flows PATHspider would hold to the end are left: emit any of them.
  table_.for_each([&](uint32_t id) {
    if (table_.size() < opts_.max_flows) return;
    ++stats_.evicted;
    emit(id);
  });
}

void Observer::flush() {
  // Every flow goes: handed over in place, then the table and the wheels emptied at
  // once, not flow by flow (a million flows flushed would be a million random erases).
  for (auto state : {Flow::State::expiring, Flow::State::active})
    table_.for_each([&](uint32_t id) {
      if (table_[id].state != state) return;
      sink_.emit(table_[id]);
      ++stats_.emitted;
    });
  table_.clear();
  std::fill(idle_.heads.begin(), idle_.heads.end(), kNoFlow);
  std::fill(expiry_.heads.begin(), expiry_.heads.end(), kNoFlow);
}

}  // namespace pspdr
