#include "generators/connector.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <string>

#include "shared/clock.hpp"
#include "shared/dns_query.hpp"
#include "shared/wakeup.hpp"

namespace pspdr {
namespace {

// epoll tags: our own sockets carry their descriptor, libcurl's this bit as well, the
// wakeup the other.
constexpr uint64_t kCurlTag = 1ull << 32;
constexpr uint64_t kWakeTag = 1ull << 33;

int64_t monotonic_ms() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// The destination as a URL host: IPv6 in brackets.
std::string url_host(const ConnectionRequest& req) {
  char buf[IpAddress::kMaxText];
  std::string text(destination(req).format(buf));
  return req.family == 4 ? text : "[" + text + "]";
}

// The DSCP/ECN byte of every packet the socket sends.
void set_tos(int fd, uint8_t family, uint8_t tos) {
  if (!tos) return;
  int v = tos;
  if (family == 4)
    setsockopt(fd, IPPROTO_IP, IP_TOS, &v, sizeof v);
  else
    setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &v, sizeof v);
}

// PATHspider binds every connection to the capture interface's address: on a
// multi-homed vantage point the route could otherwise leave by another interface, and
// the observer would never see the flow. Without a source, any address.
bool bind_source(int fd, const ConnectionRequest& req) {
  sockaddr_storage sa{};
  socklen_t len = req.family == 4 ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
  if (!source_address(req, sa, len)) sa.ss_family = req.family == 4 ? AF_INET : AF_INET6;
  return bind(fd, reinterpret_cast<sockaddr*>(&sa), len) == 0;
}

uint16_t local_port(int fd) {
  sockaddr_storage sa{};
  socklen_t len = sizeof sa;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0) return 0;
  return ntohs(sa.ss_family == AF_INET ? reinterpret_cast<sockaddr_in&>(sa).sin_port
                                       : reinterpret_cast<sockaddr_in6&>(sa).sin6_port);
}

}  // namespace

// A kernel-socket connection: connect (tcp), or send a DNS query and wait for the
// answer (dnstcp, with a 2-byte length prefix; dnsudp).
struct Connector::SocketConnection {
  ConnectionRequest req;
  ConnectionResult res;
  int fd = -1;
  int64_t deadline_ms = 0;
  bool connected = false;
  bool watching_out = false;  // EPOLLOUT is in the socket's epoll events
  std::vector<uint8_t> out;   // what is left to send
  std::vector<uint8_t> in;    // what came back
  uint16_t dns_id = 0;
};

// An HTTP(S) transfer on libcurl's multi handle.
struct Connector::Transfer {
  ConnectionRequest req;
  ConnectionResult res;
  CURL* easy = nullptr;
  curl_slist* connect_to = nullptr;
};

Connector::Connector(size_t max_in_flight) : max_in_flight_(max_in_flight) {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
  epoll_ = epoll_create1(EPOLL_CLOEXEC);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  multi_ = curl_multi_init();
  curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, curl_socket_cb);
  curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, curl_timer_cb);
  curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
}

Connector::~Connector() {
  for (auto& [easy, t] : transfers_) {
    curl_multi_remove_handle(multi_, easy);
    curl_easy_cleanup(easy);
    curl_slist_free_all(t->connect_to);
  }
  curl_multi_cleanup(multi_);
  for (auto& [fd, c] : sockets_) close(fd);
  close(epoll_);
}

bool Connector::start(const ConnectionRequest& req) {
  if (in_flight() >= max_in_flight_) return false;
  if (is_http(req.mode))
    start_transfer(req);
  else
    start_socket(req);
  return true;
}

void Connector::start_socket(const ConnectionRequest& req) {
  auto c = std::make_unique<SocketConnection>();
  c->req = req;
  c->res = ConnectionResult{.id = req.id, .family = req.family, .started = realtime_seconds()};
  c->deadline_ms = monotonic_ms() + req.timeout_ms;
  next_expiry_ms_ = std::min(next_expiry_ms_, c->deadline_ms);
  auto fail = [&](int err) {
    c->res.error = err;
    c->res.finished = realtime_seconds();
    failed_at_once_.push_back(c->res);
    if (c->fd >= 0) close(c->fd);
  };
  bool udp = req.mode == ConnectMode::dnsudp;
  bool dns = udp || req.mode == ConnectMode::dnstcp;
  if (req.mode == ConnectMode::tcpsyn) return fail(EINVAL);  // the raw forge's job
  c->fd = socket(req.family == 4 ? AF_INET : AF_INET6,
                 (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->fd < 0) return fail(errno);
  set_tos(c->fd, req.family, req.tos);
  if (!bind_source(c->fd, req)) return fail(errno);
  if (dns) {
    c->dns_id = next_dns_id_++;
    c->out = build_dns_query(c->dns_id, req.domain);
    if (c->out.empty()) return fail(EINVAL);
    if (!udp) {
      uint16_t n = uint16_t(c->out.size());
      c->out.insert(c->out.begin(), {uint8_t(n >> 8), uint8_t(n)});
    }
  }
  sockaddr_storage sa;
  socklen_t len = destination_address(req, sa);
  int rc;
  if (req.tfo && !udp) {
    // TCP Fast Open: the first bytes go with the SYN when a cookie is cached; what
    // sendto() did not take is sent once connected.
    ssize_t n = sendto(c->fd, c->out.data(), c->out.size(), MSG_FASTOPEN,
                       reinterpret_cast<sockaddr*>(&sa), len);
    if (n > 0) c->out.erase(c->out.begin(), c->out.begin() + n);
    rc = n >= 0 ? 0 : -1;
  } else {
    rc = connect(c->fd, reinterpret_cast<sockaddr*>(&sa), len);
  }
  if (rc != 0 && errno != EINPROGRESS) return fail(errno);
  c->res.sport = local_port(c->fd);
  if (udp) {
    if (send(c->fd, c->out.data(), c->out.size(), 0) < 0) return fail(errno);
    c->out.clear();
    c->connected = true;
  }
  c->watching_out = !udp;  // until connected and everything is sent
  epoll_event ev{.events = uint32_t(udp ? EPOLLIN : EPOLLOUT | EPOLLIN), .data = {}};
  ev.data.u64 = uint64_t(c->fd);
  epoll_ctl(epoll_, EPOLL_CTL_ADD, c->fd, &ev);
  int fd = c->fd;
  sockets_.emplace(fd, std::move(c));
}

void Connector::on_socket_event(SocketConnection& c, uint32_t events) {
  std::vector<ConnectionResult>& done = failed_at_once_;  // reported by the same poll
  if (!c.connected) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err) return end_socket(c.fd, SpdrState::failed, err, done);
    if (!(events & (EPOLLOUT | EPOLLIN))) return;
    c.connected = true;
    if (c.req.mode == ConnectMode::tcp) return end_socket(c.fd, SpdrState::ok, 0, done);
  }
  if (!c.out.empty()) {
    ssize_t n = send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN) return end_socket(c.fd, SpdrState::failed, errno, done);
    if (n > 0) c.out.erase(c.out.begin(), c.out.begin() + n);
  }
  if (c.out.empty() && c.watching_out) {
    // A connected socket is always writable: left in the set, EPOLLOUT would wake every
    // poll until the answer came (a Fast Open SYN that carried all the query did that,
    // spinning the generator on its core).
    c.watching_out = false;
    epoll_event ev{.events = EPOLLIN, .data = {}};
    ev.data.u64 = uint64_t(c.fd);
    epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &ev);
  }
  if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR))) return;
  uint8_t buf[4096];
  ssize_t n = recv(c.fd, buf, sizeof buf, 0);
  if (n < 0) {
    if (errno != EAGAIN) end_socket(c.fd, SpdrState::failed, errno, done);
    return;
  }
  if (n == 0) return end_socket(c.fd, SpdrState::failed, ECONNRESET, done);
  bool udp = c.req.mode == ConnectMode::dnsudp;
  const uint8_t* msg = buf;
  size_t msg_len = size_t(n);
  if (!udp) {  // a length-prefixed message, possibly in pieces
    c.in.insert(c.in.end(), buf, buf + n);
    if (c.in.size() < 2 || c.in.size() < 2u + (c.in[0] << 8 | c.in[1])) return;
    msg = c.in.data() + 2;
    msg_len = c.in.size() - 2;
  }
  uint16_t id;
  if (dns_response_id(msg, msg_len, id) && id == c.dns_id) {
    c.res.dns_answered = true;
    end_socket(c.fd, SpdrState::ok, 0, done);
  }
}

void Connector::end_socket(int fd, SpdrState state, int error,
                           std::vector<ConnectionResult>& done) {
  auto it = sockets_.find(fd);
  SocketConnection& c = *it->second;
  c.res.state = state;
  c.res.error = error;
  c.res.finished = realtime_seconds();
  done.push_back(c.res);
  epoll_ctl(epoll_, EPOLL_CTL_DEL, fd, nullptr);
  close(fd);
  sockets_.erase(it);
}

void Connector::expire_sockets(std::vector<ConnectionResult>& done) {
  int64_t now = monotonic_ms();
  if (now < next_expiry_ms_) return;
  next_expiry_ms_ = INT64_MAX;
  std::vector<int> expired;
  for (const auto& [fd, c] : sockets_) {
    if (now >= c->deadline_ms)
      expired.push_back(fd);
    else
      next_expiry_ms_ = std::min(next_expiry_ms_, c->deadline_ms);
  }
  for (int fd : expired) end_socket(fd, SpdrState::timeout, ETIMEDOUT, done);
}

void Connector::wake_on(int wakeup) {
  epoll_event ev{.events = EPOLLIN, .data = {}};
  ev.data.u64 = kWakeTag | uint64_t(wakeup);
  epoll_ctl(epoll_, EPOLL_CTL_ADD, wakeup, &ev);
}

void Connector::start_transfer(const ConnectionRequest& req) {
  auto t = std::make_unique<Transfer>();
  t->req = req;
  t->res = ConnectionResult{.id = req.id, .family = req.family, .started = realtime_seconds()};
  CURL* e = t->easy = curl_easy_init();
  bool tls = req.mode == ConnectMode::https;
  // As PATHspider: the URL names the domain, CONNECT_TO sends it to the job's address.
  std::string host = req.domain[0] ? std::string(req.domain) : url_host(req);
  std::string url = (tls ? "https://" : "http://") + host + ":" + std::to_string(req.dport) + "/";
  t->connect_to =
      curl_slist_append(nullptr, ("::" + url_host(req) + ":" + std::to_string(req.dport)).c_str());
  curl_easy_setopt(e, CURLOPT_URL, url.c_str());
  curl_easy_setopt(e, CURLOPT_CONNECT_TO, t->connect_to);
  curl_easy_setopt(e, CURLOPT_USERAGENT, "PATHspider (https://pathspider.net/)");
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, long(req.timeout_ms));
  curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
  curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);  // targets are addresses, not names
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
  // The baseline is HTTP/1.1 even where libcurl would offer h2 by ALPN on its own.
  curl_easy_setopt(e, CURLOPT_HTTP_VERSION,
                   long(req.http2 ? CURL_HTTP_VERSION_2_0 : CURL_HTTP_VERSION_1_1));
  if (req.tfo) curl_easy_setopt(e, CURLOPT_TCP_FASTOPEN, 1L);
  curl_easy_setopt(
      e, CURLOPT_WRITEFUNCTION, +[](char*, size_t size, size_t n, void*) { return size * n; });
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, curl_header_cb);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, &t->res);
  curl_easy_setopt(e, CURLOPT_SOCKOPTFUNCTION, curl_sockopt_cb);
  curl_easy_setopt(e, CURLOPT_SOCKOPTDATA, t.get());
  curl_easy_setopt(e, CURLOPT_PRIVATE, t.get());
  transfers_.emplace(e, std::move(t));
  curl_multi_add_handle(multi_, e);
}

// Before libcurl connects: the connection's marks, and a source port chosen now, so a
// connection that never completes can still be paired with its flow.
int Connector::curl_sockopt_cb(void* transfer, curl_socket_t fd, curlsocktype purpose) {
  if (purpose != CURLSOCKTYPE_IPCXN) return CURL_SOCKOPT_OK;
  auto* t = static_cast<Transfer*>(transfer);
  set_tos(fd, t->req.family, t->req.tos);
  if (!bind_source(fd, t->req)) return CURL_SOCKOPT_ERROR;
  t->res.sport = local_port(fd);
  return CURL_SOCKOPT_OK;
}

// Keeps the response's header lines, as PATHspider's http_response_header, as far as
// they fit.
size_t Connector::curl_header_cb(char* data, size_t size, size_t n, void* result) {
  auto& header = static_cast<ConnectionResult*>(result)->http_header;
  size_t used = std::strlen(header);
  size_t room = sizeof header - 1 - used;
  std::memcpy(header + used, data, std::min(room, size * n));
  return size * n;
}

int Connector::curl_socket_cb(CURL*, curl_socket_t fd, int what, void* self, void*) {
  auto* c = static_cast<Connector*>(self);
  if (what == CURL_POLL_REMOVE) {
    epoll_ctl(c->epoll_, EPOLL_CTL_DEL, fd, nullptr);
    return 0;
  }
  epoll_event ev{.events = uint32_t((what & CURL_POLL_IN ? int(EPOLLIN) : 0) |
                                    (what & CURL_POLL_OUT ? int(EPOLLOUT) : 0)),
                 .data = {}};
  ev.data.u64 = kCurlTag | uint64_t(fd);
  if (epoll_ctl(c->epoll_, EPOLL_CTL_MOD, fd, &ev) != 0)
    epoll_ctl(c->epoll_, EPOLL_CTL_ADD, fd, &ev);
  return 0;
}

int Connector::curl_timer_cb(CURLM*, long timeout_ms, void* self) {
  auto* c = static_cast<Connector*>(self);
  c->curl_deadline_ms_ = timeout_ms < 0 ? -1 : monotonic_ms() + timeout_ms;
  return 0;
}

void Connector::collect_transfers(std::vector<ConnectionResult>& done) {
  int left;
  while (CURLMsg* m = curl_multi_info_read(multi_, &left)) {
    if (m->msg != CURLMSG_DONE) continue;
    auto it = transfers_.find(m->easy_handle);
    Transfer& t = *it->second;
    CURLcode rc = m->data.result;
    t.res.state = rc == CURLE_OK                   ? SpdrState::ok
                  : rc == CURLE_OPERATION_TIMEDOUT ? SpdrState::timeout
                                                   : SpdrState::failed;
    t.res.error = rc;
    long code = 0, version = 0;
    curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_getinfo(t.easy, CURLINFO_HTTP_VERSION, &version);
    t.res.http_status = uint16_t(code);
    t.res.http_version = version == CURL_HTTP_VERSION_2_0   ? 20
                         : version == CURL_HTTP_VERSION_1_1 ? 11
                         : version == CURL_HTTP_VERSION_1_0 ? 10
                                                            : 0;
    t.res.finished = realtime_seconds();
    done.push_back(t.res);
    curl_multi_remove_handle(multi_, t.easy);
    curl_easy_cleanup(t.easy);
    curl_slist_free_all(t.connect_to);
    transfers_.erase(it);
  }
}

void Connector::poll(int wait_ms, std::vector<ConnectionResult>& done) {
  done.insert(done.end(), failed_at_once_.begin(), failed_at_once_.end());
  failed_at_once_.clear();
  if (!done.empty()) wait_ms = 0;
  // Sleep no longer than the next timeout, ours or libcurl's.
  int64_t now = monotonic_ms(), until = now + wait_ms;
  if (curl_deadline_ms_ >= 0) until = std::min(until, curl_deadline_ms_);
  until = std::min(until, next_expiry_ms_);
  epoll_event events[256];
  int n = epoll_wait(epoll_, events, 256, int(std::max<int64_t>(0, until - now)));
  int running;
  for (int i = 0; i < n; ++i) {
    uint64_t tag = events[i].data.u64;
    if (tag & kWakeTag) {
      clear_wakeup(int(tag & 0xffffffff));
    } else if (tag & kCurlTag) {
      uint32_t ev = events[i].events;
      int flags = (ev & EPOLLIN ? int(CURL_CSELECT_IN) : 0) |
                  (ev & EPOLLOUT ? int(CURL_CSELECT_OUT) : 0) |
                  (ev & (EPOLLERR | EPOLLHUP) ? int(CURL_CSELECT_ERR) : 0);
      curl_multi_socket_action(multi_, curl_socket_t(tag & 0xffffffff), flags, &running);
    } else if (auto it = sockets_.find(int(tag)); it != sockets_.end()) {
      on_socket_event(*it->second, events[i].events);
    }
  }
  if (curl_deadline_ms_ >= 0 && monotonic_ms() >= curl_deadline_ms_) {
    curl_deadline_ms_ = -1;
    curl_multi_socket_action(multi_, CURL_SOCKET_TIMEOUT, 0, &running);
  }
  collect_transfers(done);
  expire_sockets(done);
  done.insert(done.end(), failed_at_once_.begin(), failed_at_once_.end());
  failed_at_once_.clear();
}

}  // namespace pspdr
