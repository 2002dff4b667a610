// The XDP program of XdpSource: every packet arriving on a receive queue goes to the
// AF_XDP socket bound to that queue. Built with `clang -target bpf` and embedded in the
// observer, which attaches it through libxdp and fills `xsks` with one socket per queue.
#include <linux/bpf.h>
// After <linux/bpf.h>: the helpers' declarations use its types.
#include <bpf/bpf_helpers.h>

// Queue index -> AF_XDP socket. 256 queues: more than NICs usually have; XdpSource
// refuses to read more.
struct {
  __uint(type, BPF_MAP_TYPE_XSKMAP);
  __uint(max_entries, 256);
  __type(key, __u32);
  __type(value, __u32);
} xsks SEC(".maps");

SEC("xdp")
int redirect_to_xsk(struct xdp_md* ctx) {
  // The flags argument is the action when the queue has no socket: such packets (queues
  // the observer does not poll) go on to the kernel stack untouched.
  return bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS);
}

// BSD like the rest of the project; the kernel counts the dual licence as GPL-compatible.
char _license[] SEC("license") = "Dual BSD/GPL";
