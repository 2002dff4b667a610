// The spider's observer: pspdr observe's live pipeline on threads of its own, capturing
// on the campaign's interface with the plugin's chains, handing its flow records to the
// spider's thread as typed flows (FlowBatchSink), waking it after each batch.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "chains/chain_set.hpp"
#include "observer/packet_source.hpp"
#include "observer/pipeline.hpp"
#include "shared/wakeup.hpp"

namespace pspdr {

class ObserverThread final : public PipelineOutput {
 public:
  // Starts capturing on `source` (taken over); `wakeup` is woken whenever flows are
  // handed over.
  ObserverThread(std::unique_ptr<PacketSource> source, const ChainSet& chains,
                 const ObserverOptions& opts, int wakeup);
  ~ObserverThread() override {
    finish([](const Flow&) {});  // batches no one took (a run cut short) are freed
  }

  // Stops capturing and hands every flow still held to fn(const Flow&), taking them as
  // they come: a flow table holds more than the rings between the threads do.
  template <class Fn>
  void finish(Fn&& fn) {
    stop_.store(true);
    while (!stopped_.load()) {
      take(fn);
      sleep_until_woken(wakeup_, 10);
    }
    if (thread_.joinable()) thread_.join();
    take(fn);
  }

  // Calls fn(const Flow&) for every flow handed over since the last call.
  template <class Fn>
  void take(Fn&& fn) {
    for (auto& sink : sinks_) {
      std::vector<Flow>* batch;
      while (sink->ring().pop(std::span<std::vector<Flow>*>(&batch, 1)) == 1) {
        if (!batch) continue;  // that worker finished
        for (const Flow& f : *batch) fn(f);
        sink->give_back(batch);
      }
    }
  }

  BatchingSink& sink(uint32_t queue) override { return *sinks_[queue]; }

 private:
  std::unique_ptr<PacketSource> source_;
  std::vector<std::unique_ptr<FlowBatchSink>> sinks_;
  int wakeup_;
  std::atomic<bool> stop_{false}, stopped_{false};
  std::thread thread_;
};

}  // namespace pspdr
