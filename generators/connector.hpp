// The connection engine of a generator process: thousands of connections at once on one
// thread. Kernel sockets (tcp, dnstcp, dnsudp) and libcurl's multi interface (http,
// https) share one epoll set; each connection's result -- state, source port, HTTP
// version, DNS answer -- is reported when it ends.
#pragma once

#include <curl/curl.h>

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "generators/connection.hpp"

namespace pspdr {

class Connector {
 public:
  explicit Connector(size_t max_in_flight);  // raises the open-files limit to the hard one
  ~Connector();
  Connector(const Connector&) = delete;
  Connector& operator=(const Connector&) = delete;

  // False only when max_in_flight connections are running. A connection that fails at
  // once still reports its result (failed) from the next poll().
  bool start(const ConnectionRequest& req);
  // Runs the event loop for up to wait_ms (less when something finishes, a connection
  // times out or `wakeup` is signalled) and appends the connections that ended.
  void poll(int wait_ms, std::vector<ConnectionResult>& done);
  // An eventfd (shared/wakeup.hpp) that ends poll() early: new requests have come.
  void wake_on(int wakeup);
  size_t in_flight() const { return sockets_.size() + transfers_.size(); }

 private:
  struct SocketConnection;
  struct Transfer;

  void start_socket(const ConnectionRequest& req);
  void start_transfer(const ConnectionRequest& req);
  void on_socket_event(SocketConnection& c, uint32_t events);
  void end_socket(int fd, SpdrState state, int error, std::vector<ConnectionResult>& done);
  void expire_sockets(std::vector<ConnectionResult>& done);
  void collect_transfers(std::vector<ConnectionResult>& done);

  static int curl_socket_cb(CURL*, curl_socket_t fd, int what, void* self, void*);
  static int curl_timer_cb(CURLM*, long timeout_ms, void* self);
  static size_t curl_header_cb(char* data, size_t size, size_t n, void* result);
  static int curl_sockopt_cb(void* transfer, curl_socket_t fd, curlsocktype purpose);

  size_t max_in_flight_;
  int epoll_ = -1;
  CURLM* multi_ = nullptr;
  int64_t curl_deadline_ms_ = -1;       // when libcurl wants its timeout action; -1: none
  int64_t next_expiry_ms_ = INT64_MAX;  // the earliest deadline of a kernel socket
  uint16_t next_dns_id_ = 1;
  std::unordered_map<int, std::unique_ptr<SocketConnection>> sockets_;  // by descriptor
  std::unordered_map<CURL*, std::unique_ptr<Transfer>> transfers_;
  std::vector<ConnectionResult> failed_at_once_;
};

}  // namespace pspdr
