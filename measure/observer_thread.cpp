#include "measure/observer_thread.hpp"

namespace pspdr {

ObserverThread::ObserverThread(std::unique_ptr<PacketSource> source, const ChainSet& chains,
                               const ObserverOptions& opts, int wakeup)
    : source_(std::move(source)), wakeup_(wakeup) {
  // The plugin's own chain, if it brought one: the only one of this process.
  if (chains.loaded()) LoadedChain::active = chains.loaded();
  for (uint32_t q = 0; q < source_->queues(); ++q) {
    sinks_.push_back(std::make_unique<FlowBatchSink>(chains));
    sinks_.back()->wake_on_hand_over(wakeup);
  }
  thread_ = std::thread([this, chains, opts] {
    // Problems with the source are the spider's to say.
    run_pipeline(*source_, chains, opts, PipelineOptions{.report_problems = false}, *this, stop_);
    stopped_.store(true);
    wake(wakeup_);
  });
}

}  // namespace pspdr
