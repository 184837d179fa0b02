// udp-batch: a UDP socket for hadns that reads and writes datagrams in batches (recvmmsg/sendmmsg),
// which Node's dgram cannot. N-API + libuv only (ABI-stable: one .node for Node 20, 22, 24).
//
// One socket = one shared ArrayBuffer, laid out as
//   [ in: SLOTS × SLOT bytes ][ out: SLOTS × SLOT bytes ][ inLen: SLOTS × int32 ][ outLen: SLOTS × int32 ]
// On readable, up to SLOTS datagrams are read with one recvmmsg, then ONE JS callback runs with the
// count; it writes each answer into out slot i and its length into outLen[i] (0: no answer); then all
// answers leave with one sendmmsg to the saved source addresses. inLen[i] is 0 for a datagram that
// must be ignored (source port 0, or truncated: bigger than a slot). Up to BUDGET batches per wake-up
// so timers and other I/O still run. Sends never block: what the kernel refuses is dropped and counted.
//
// Exports: open(host, port, ipv6, cb) → { handle, buffer, port, slots, slotSize }
//          peer(handle, i) → source address of slot i (string), close(handle), stats(handle) → [..]
// cb(count, droppedSends, lastErrno)

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <fcntl.h>

#include <node_api.h>
#include <uv.h>

#define SLOTS 64
#define SLOT 4096
#define BUDGET 8
#define BUFSIZE (4 << 20)

typedef struct ub {
  int fd;
  int closed;        // close() was called: the poll is closing, touch nothing
  int in_callback;
  int release_on_close;  // drop the JS references once the handle is closed (not at env teardown)
  int refs;          // owners of this struct: the uv poll handle and the JS external; freed at 0
  napi_env env;
  uv_poll_t poll;
  napi_ref cb;
  napi_ref buffer;
  napi_async_context actx;
  uint8_t* base;
  uint8_t* in;
  uint8_t* out;
  int32_t* in_len;
  int32_t* out_len;
  struct mmsghdr rmsg[SLOTS];
  struct iovec riov[SLOTS];
  struct sockaddr_storage addr[SLOTS];
  struct mmsghdr smsg[SLOTS];
  struct iovec siov[SLOTS];
  // counters
  double batches, datagrams, truncated, port0, sent, dropped, too_big;
  uint32_t pending_dropped;  // reported to JS with the next batch
  int last_errno;
} ub_t;

static void on_poll(uv_poll_t* h, int status, int events);

static napi_value throw_errno(napi_env env, int err, const char* what) {
  char msg[256];
  const char* code = uv_err_name(uv_translate_sys_error(err));
  snprintf(msg, sizeof msg, "%s %s %s", what, code, strerror(err));
  napi_throw_error(env, code, msg);
  return NULL;
}

static void release_js(ub_t* u);

static void on_closed(uv_handle_t* h) {
  ub_t* u = (ub_t*)h->data;
  if (u->release_on_close) {
    napi_handle_scope scope;
    napi_open_handle_scope(u->env, &scope);
    release_js(u);
    napi_close_handle_scope(u->env, scope);
  }
  if (--u->refs == 0) free(u);
}

// The JS handle was garbage-collected. While the socket is open its callback (held by a strong
// reference) keeps the handle reachable, so this runs after close() or at teardown; until then
// peer/stats/close on the handle must still find the struct, hence the two owners.
static void on_external_gone(napi_env env, void* data, void* hint) {
  (void)env;
  (void)hint;
  ub_t* u = (ub_t*)data;
  if (--u->refs == 0) free(u);
}

static void release_js(ub_t* u) {
  napi_env env = u->env;
  if (u->cb) napi_delete_reference(env, u->cb);
  if (u->buffer) napi_delete_reference(env, u->buffer);
  if (u->actx) napi_async_destroy(env, u->actx);
  u->cb = NULL;
  u->buffer = NULL;
  u->actx = NULL;
}

static void cleanup_hook(void* arg);

static void do_close(ub_t* u, int from_cleanup) {
  if (u->closed) return;
  u->closed = 1;
  if (!from_cleanup) {
    napi_remove_env_cleanup_hook(u->env, cleanup_hook, u);
    u->release_on_close = 1;  // not now: close() may run inside this socket's own callback
  }
  uv_poll_stop(&u->poll);
  uv_close((uv_handle_t*)&u->poll, on_closed);  // takes the fd out of epoll before it is closed
  // Close the fd now, not in on_closed: the port is free as soon as close() returns.
  close(u->fd);
  u->fd = -1;
}

static void cleanup_hook(void* arg) { do_close((ub_t*)arg, 1); }

static ub_t* get_handle(napi_env env, napi_value v) {
  void* p = NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok || p == NULL) {
    napi_throw_type_error(env, NULL, "not a udp-batch handle");
    return NULL;
  }
  return (ub_t*)p;
}

// open(host: string, port: number, ipv6: boolean, cb: Function)
static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 4) {
    napi_throw_type_error(env, NULL, "open(host, port, ipv6, cb[, reusePort])");
    return NULL;
  }
  char host[128];
  size_t hl = 0;
  if (napi_get_value_string_utf8(env, argv[0], host, sizeof host, &hl) != napi_ok) {
    napi_throw_type_error(env, NULL, "host must be a string");
    return NULL;
  }
  int32_t port = 0;
  napi_get_value_int32(env, argv[1], &port);
  bool v6 = false;
  napi_get_value_bool(env, argv[2], &v6);
  // SO_REUSEPORT: each worker of --workers N binds its own socket to the one port, and the kernel
  // spreads the clients over them (by address and port).
  bool reuse_port = false;
  if (argc >= 5) napi_get_value_bool(env, argv[4], &reuse_port);

  struct sockaddr_storage ss;
  socklen_t sl;
  memset(&ss, 0, sizeof ss);
  if (v6) {
    struct sockaddr_in6* a = (struct sockaddr_in6*)&ss;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons((uint16_t)port);
    if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1) return throw_errno(env, EINVAL, "udp-batch: not an IPv6 address:");
    sl = sizeof *a;
  } else {
    struct sockaddr_in* a = (struct sockaddr_in*)&ss;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &a->sin_addr) != 1) return throw_errno(env, EINVAL, "udp-batch: not an IPv4 address:");
    sl = sizeof *a;
  }

  int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, errno, "udp-batch socket:");
  int sz = BUFSIZE, one = 1;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
  if (v6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (reuse_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, e, "udp-batch SO_REUSEPORT:");
  }
  if (bind(fd, (struct sockaddr*)&ss, sl) < 0) {
    int e = errno;
    close(fd);
    // The message node:dgram gives ("bind EADDRINUSE 127.0.0.1:53"), with the code as err.code.
    char msg[200];
    const char* code = uv_err_name(uv_translate_sys_error(e));
    snprintf(msg, sizeof msg, "bind %s %s:%d", code, host, port);
    napi_throw_error(env, code, msg);
    return NULL;
  }
  struct sockaddr_storage bound;
  socklen_t bl = sizeof bound;
  int bound_port = port;
  if (getsockname(fd, (struct sockaddr*)&bound, &bl) == 0)
    bound_port = ntohs(v6 ? ((struct sockaddr_in6*)&bound)->sin6_port : ((struct sockaddr_in*)&bound)->sin_port);

  ub_t* u = (ub_t*)calloc(1, sizeof(ub_t));
  if (!u) {
    close(fd);
    return throw_errno(env, ENOMEM, "udp-batch:");
  }
  u->fd = fd;
  u->env = env;
  size_t total = (size_t)SLOTS * SLOT * 2 + (size_t)SLOTS * 4 * 2;
  napi_value ab;
  void* data = NULL;
  if (napi_create_arraybuffer(env, total, &data, &ab) != napi_ok) {
    close(fd);
    free(u);
    return NULL;
  }
  u->base = (uint8_t*)data;
  u->in = u->base;
  u->out = u->base + (size_t)SLOTS * SLOT;
  u->in_len = (int32_t*)(u->base + (size_t)SLOTS * SLOT * 2);
  u->out_len = u->in_len + SLOTS;
  napi_create_reference(env, ab, 1, &u->buffer);
  napi_create_reference(env, argv[3], 1, &u->cb);
  napi_value resname;
  napi_create_string_utf8(env, "hadns.udpBatch", NAPI_AUTO_LENGTH, &resname);
  napi_value resobj;
  napi_create_object(env, &resobj);
  napi_async_init(env, resobj, resname, &u->actx);

  for (int i = 0; i < SLOTS; i++) {
    u->riov[i].iov_base = u->in + (size_t)i * SLOT;
    u->riov[i].iov_len = SLOT;
  }

  uv_loop_t* loop = NULL;
  napi_get_uv_event_loop(env, &loop);
  int r = uv_poll_init(loop, &u->poll, fd);
  if (r == 0) {
    u->poll.data = u;
    r = uv_poll_start(&u->poll, UV_READABLE, on_poll);
  }
  if (r != 0) {
    release_js(u);
    close(fd);
    free(u);  // uv_poll_init failing leaves nothing to close; start failing after init is not expected
    napi_throw_error(env, uv_err_name(r), uv_strerror(r));
    return NULL;
  }
  napi_add_env_cleanup_hook(env, cleanup_hook, u);

  napi_value result, handle, v;
  napi_create_object(env, &result);
  u->refs = 2;
  napi_create_external(env, u, on_external_gone, NULL, &handle);
  napi_set_named_property(env, result, "handle", handle);
  napi_set_named_property(env, result, "buffer", ab);
  napi_create_int32(env, bound_port, &v);
  napi_set_named_property(env, result, "port", v);
  napi_create_int32(env, SLOTS, &v);
  napi_set_named_property(env, result, "slots", v);
  napi_create_int32(env, SLOT, &v);
  napi_set_named_property(env, result, "slotSize", v);
  return result;
}

static int source_port(const struct sockaddr_storage* a) {
  if (a->ss_family == AF_INET) return ntohs(((const struct sockaddr_in*)a)->sin_port);
  if (a->ss_family == AF_INET6) return ntohs(((const struct sockaddr_in6*)a)->sin6_port);
  return 0;
}

static void send_answers(ub_t* u, int n) {
  int m = 0;
  for (int i = 0; i < n; i++) {
    int32_t len = u->out_len[i];
    if (len <= 0) continue;
    if (len > SLOT || u->in_len[i] <= 0) {
      u->too_big++;
      continue;
    }
    u->siov[m].iov_base = u->out + (size_t)i * SLOT;
    u->siov[m].iov_len = (size_t)len;
    struct msghdr* h = &u->smsg[m].msg_hdr;
    memset(h, 0, sizeof *h);
    h->msg_name = &u->addr[i];
    h->msg_namelen = u->rmsg[i].msg_hdr.msg_namelen;
    h->msg_iov = &u->siov[m];
    h->msg_iovlen = 1;
    m++;
  }
  int k = 0;
  while (k < m) {
    int r = sendmmsg(u->fd, u->smsg + k, (unsigned)(m - k), MSG_DONTWAIT);
    if (r > 0) {
      k += r;
      u->sent += r;
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    int e = r < 0 ? errno : EIO;
    u->last_errno = e;
    if (e == EAGAIN || e == EWOULDBLOCK || e == ENOBUFS) {
      // The send buffer is full: never block, drop the rest of this batch.
      u->dropped += m - k;
      u->pending_dropped += (uint32_t)(m - k);
      return;
    }
    // This one message failed (unreachable address, EPERM from a firewall…): skip it, send the rest.
    u->dropped++;
    u->pending_dropped++;
    k++;
  }
}

static void on_poll(uv_poll_t* h, int status, int events) {
  ub_t* u = (ub_t*)h->data;
  (void)events;
  if (u->closed || u->in_callback) return;
  if (status < 0) return;  // spurious; level-triggered poll will tell again
  napi_env env = u->env;
  for (int b = 0; b < BUDGET; b++) {
    for (int i = 0; i < SLOTS; i++) {
      struct msghdr* mh = &u->rmsg[i].msg_hdr;
      mh->msg_name = &u->addr[i];
      mh->msg_namelen = sizeof u->addr[i];
      mh->msg_iov = &u->riov[i];
      mh->msg_iovlen = 1;
      mh->msg_control = NULL;
      mh->msg_controllen = 0;
      mh->msg_flags = 0;
      u->rmsg[i].msg_len = 0;
    }
    int n = recvmmsg(u->fd, u->rmsg, SLOTS, MSG_DONTWAIT, NULL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) u->last_errno = errno;
      // ECONNREFUSED and friends (ICMP errors queued on the socket) are consumed by the failed
      // call; the poll wakes us again if anything is still waiting.
      return;
    }
    if (n == 0) return;
    u->batches++;
    u->datagrams += n;
    for (int i = 0; i < n; i++) {
      int32_t len = (int32_t)u->rmsg[i].msg_len;
      if (u->rmsg[i].msg_hdr.msg_flags & MSG_TRUNC) {
        u->truncated++;
        len = 0;
      } else if (source_port(&u->addr[i]) == 0) {
        u->port0++;
        len = 0;
      }
      u->in_len[i] = len;
      u->out_len[i] = 0;
    }

    napi_handle_scope scope;
    napi_open_handle_scope(env, &scope);
    napi_value cb, recv, argv[3], result;
    napi_get_reference_value(env, u->cb, &cb);
    napi_get_global(env, &recv);  // napi_make_callback wants an object as `this`
    napi_create_int32(env, n, &argv[0]);
    napi_create_uint32(env, u->pending_dropped, &argv[1]);
    napi_create_int32(env, u->last_errno, &argv[2]);
    u->pending_dropped = 0;
    u->in_callback = 1;
    napi_status st = napi_make_callback(env, u->actx, recv, cb, 3, argv, &result);
    u->in_callback = 0;
    if (st == napi_pending_exception) {
      napi_value err;
      napi_get_and_clear_last_exception(env, &err);
      if (!u->closed) send_answers(u, n);
      napi_fatal_exception(env, err);  // as an uncaught exception thrown by a socket callback would
      napi_close_handle_scope(env, scope);
      return;
    }
    napi_close_handle_scope(env, scope);
    if (u->closed) return;
    send_answers(u, n);
    if (n < SLOTS) return;  // the queue was empty at the read: let the poll tell us of more
  }
}

// The socket in the first argument (a TypeError pending and NULL if it is not one); the second
// argument in *second when asked (undefined when absent).
static ub_t* handle_arg(napi_env env, napi_callback_info info, napi_value* second) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (second) *second = argv[1];
  return get_handle(env, argv[0]);
}

static napi_value js_peer(napi_env env, napi_callback_info info) {
  napi_value slot;
  ub_t* u = handle_arg(env, info, &slot);
  if (!u) return NULL;
  int32_t i = -1;
  napi_get_value_int32(env, slot, &i);
  if (i < 0 || i >= SLOTS) {
    napi_throw_range_error(env, NULL, "slot out of range");
    return NULL;
  }
  char s[INET6_ADDRSTRLEN + 1] = "";
  const struct sockaddr_storage* a = &u->addr[i];
  if (a->ss_family == AF_INET) inet_ntop(AF_INET, &((const struct sockaddr_in*)a)->sin_addr, s, sizeof s);
  else if (a->ss_family == AF_INET6) inet_ntop(AF_INET6, &((const struct sockaddr_in6*)a)->sin6_addr, s, sizeof s);
  napi_value v;
  napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v);
  return v;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  ub_t* u = handle_arg(env, info, NULL);
  if (!u) return NULL;
  do_close(u, 0);
  return NULL;
}

static napi_value js_stats(napi_env env, napi_callback_info info) {
  ub_t* u = handle_arg(env, info, NULL);
  if (!u) return NULL;
  napi_value o, v;
  napi_create_object(env, &o);
#define SET(name, val)                  \
  napi_create_double(env, (val), &v); \
  napi_set_named_property(env, o, name, v);
  SET("batches", u->batches);
  SET("datagrams", u->datagrams);
  SET("truncated", u->truncated);
  SET("port0", u->port0);
  SET("sent", u->sent);
  SET("dropped", u->dropped);
  SET("tooBig", u->too_big);
  SET("lastErrno", u->last_errno);
#undef SET
  return o;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"peer", NULL, js_peer, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, NULL},
      {"stats", NULL, js_stats, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
