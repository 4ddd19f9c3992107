/*
 * @loop/selector's native half: a private readiness set nested in Node's own libuv loop.
 *
 * The C side does system calls and batching only; every policy (what a transport does on
 * EOF, when to pause a protocol) is in TypeScript. Per host loop iteration:
 *
 *   the backend reports readiness (or the loop timer fires, or the check phase after a wake-up)
 *     -> deliver(): harvest the ready descriptors once, accept and read into the shared slab,
 *        append [fd, kind, a, b] records to the shared event array
 *     -> ONE napi_make_callback(onBatch, count): JS routes the records and runs loop turns;
 *        microtasks drain when it returns
 *     -> flush every descriptor written to during the callback (one send per descriptor)
 *
 * Readiness comes from one of three backends behind `backend_t` (register, modify or drop a
 * descriptor's read/write interest; harvest what is ready without blocking):
 * - epoll (Linux, the default there): a private epoll set, watched by one uv_poll_t on its
 *   descriptor; the uv_poll_t fires in libuv's poll phase and the batch is delivered there.
 * - kqueue (macOS and the BSDs, the default there): the same shape with a private kqueue.
 * - uv_poll (any platform where libuv polls descriptors): one uv_poll_t per descriptor in
 *   libuv's own set. Their callbacks only note what is ready; the check phase of the same
 *   iteration harvests the notes and delivers one batch, as the other two do.
 * LOOP_SELECTOR_BACKEND (read by src/reactor.ts) picks one per thread; see the README.
 *
 * Writes made outside a batch (a Node callback) are flushed by a uv_check_t in the same
 * iteration; a uv_idle_t keeps libuv's poll from blocking while such work is pending.
 * Everything is per Node environment (napi_set_instance_data), so every worker thread has
 * its own readiness set and handles; an async cleanup hook closes them when the thread ends.
 *
 * Known traps, and what this file does about them:
 * - A descriptor always leaves the backend before it is closed here, so the epoll set never
 *   keeps an open file description alive under a number we no longer own (libuv#1148,
 *   uvloop#61), and no uv_poll_t outlives its descriptor. An epoll record for a descriptor
 *   we do not know is deleted from the set, and when that fails (the caller closed a watched
 *   fd first, a duplicate keeps it alive) the set is rebuilt.
 * - An interest set that becomes empty is removed from the backend rather than modified to
 *   0: EPOLLHUP/EPOLLERR are reported even for an empty mask and would spin the loop (a peer
 *   that closed while we do not read: libuv#2922's CLOSE_WAIT spin).
 * - Reading stops at EOF, so a half-closed socket is not reported readable forever.
 * - libuv stops a uv_poll_t that reports POLLERR (status UV_EBADF); the uv_poll backend
 *   reports the descriptor ready with IO_ERR (a read or SO_ERROR then says what failed) and
 *   starts the handle again if it is still wanted.
 */
#define _GNU_SOURCE
#ifndef NAPI_VERSION
#define NAPI_VERSION 8
#endif
#include <node_api.h>
#include <uv.h>

#include "spawn.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef _WIN32
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
/* Raw sockets and uv_poll_t per descriptor work wherever libuv polls file descriptors. */
#define HAVE_SELECTOR 1
#else
/* Windows has no descriptors for sockets to poll: see the README for what it would need. */
#define HAVE_SELECTOR 0
#endif

#ifdef __linux__
#include <sys/epoll.h>
#define HAVE_EPOLL 1
#else
#define HAVE_EPOLL 0
#endif

#if defined(__APPLE__) || defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__NetBSD__) || defined(__DragonFly__)
#include <sys/event.h>
#include <sys/time.h>
#define HAVE_KQUEUE 1
#else
#define HAVE_KQUEUE 0
#endif

/* MSG_NOSIGNAL is missing on macOS, where SO_NOSIGPIPE is set on every socket instead
 * (set_socket_flags). Node ignores SIGPIPE anyway; this keeps an embedder that does not safe. */
#ifdef MSG_NOSIGNAL
#define SEND_FLAGS MSG_NOSIGNAL
#else
#define SEND_FLAGS 0
#endif

/* Record kinds, mirrored in src/native.ts. */
enum {
  REC_READABLE = 1,  /* watch mode: the fd is readable (addReader) */
  REC_WRITABLE = 2,  /* watch mode: the fd is writable (addWriter) */
  REC_DATA = 3,      /* stream: a = offset in the current slab, b = length */
  REC_EOF = 4,       /* stream: the peer ended its side */
  REC_ERROR = 5,     /* stream/listener: a = errno, b = 1 read, 2 write, 3 accept */
  REC_ACCEPT = 6,    /* listener: a = the new connection's fd */
  REC_CONNECTED = 7, /* connecting: a = 0 or the connect errno */
  REC_DRAINED = 8,   /* stream: the write buffer fell to the low mark asked for; a = bytes left */
  REC_BACKLOG = 9,   /* stream: after a flush, a = bytes a full socket left buffered (0: all sent) */
};

/* The shared control words (an Int32Array both sides see; see src/reactor.ts). */
enum {
  CTL_QUEUED = 0,  /* write records JS appended to the queue, not yet taken by C */
  CTL_STAGED = 1,  /* bytes used in the staging area */
  CTL_FLUSHES = 2, /* incremented by every flush: staged bytes of an older count are sent */
  CTL_TIMER = 3,   /* 1 while the loop timer is armed */
  CTL_SLAB = 4,    /* bytes of the current slab read into (never reused: JS hands out views) */
  CTL_WORDS = 5,
};

/* Bump with every change to the functions, record kinds or shared arrays. */
#define SELECTOR_ABI 5

enum { MODE_NONE = 0, MODE_WATCH = 1, MODE_STREAM = 2, MODE_LISTEN = 3, MODE_CONNECT = 4 };

enum {
  FL_READING = 1,      /* stream/listener: read interest wanted */
  FL_EOF_PENDING = 2,  /* shutdown(SHUT_WR) once the write buffer is empty */
  FL_DIRTY = 4,        /* in the dirty list: to flush after this batch */
  FL_NOTIFY = 8,       /* emit REC_DRAINED when the buffer falls to `low` */
  FL_OUT_DEAD = 16,    /* a write failed: further writes are dropped */
  FL_TCP = 32,         /* listener of TCP sockets: set TCP_NODELAY on accepted ones */
  FL_SHUT = 64,        /* shutdown(SHUT_WR) done */
  FL_PIPE = 128,       /* a pipe (a child's stdio, spawn.c): write(), not send() */
};

typedef struct {
  uint8_t mode;
  uint8_t watch;      /* watch mode: IO_READ/IO_WRITE wanted */
  uint16_t flags;
  uint8_t registered; /* the IO_READ/IO_WRITE interest the backend holds; 0 = not in it */
  uint8_t ready;      /* uv_poll backend: readiness noted since the last harvest */
  void *handle;       /* uv_poll backend: this descriptor's uv_poll_t (allocated: the table moves) */
  size_t low;
  /* Bytes written during this batch sit in the shared staging area (no buffer per
   * descriptor); only what a full socket leaves behind moves to `out`, the backlog, which is
   * freed once sent. Invariant: staged bytes exist only while the backlog is empty. */
  uint32_t staged_off, staged_len;
  size_t reported; /* the backlog size JS last heard of (REC_BACKLOG) */
  char *out;
  size_t out_off, out_len, out_cap;
} fd_state;

#define READ_CHUNK (64 * 1024)
#define MAX_ACCEPTS 64
#define MAX_HARVEST 1024

/* Interest (IO_READ, IO_WRITE) and readiness (all four) as every backend reports them. */
enum { IO_READ = 1, IO_WRITE = 2, IO_HUP = 4, IO_ERR = 8 };

typedef struct {
  int fd;
  unsigned bits;
} ready_t;

struct state;

/*
 * A readiness backend. The table (fd_state) is the core's: a backend keeps no record of its
 * own but `registered` (which the core updates after a successful set), `ready` and `handle`.
 * Any descriptor can be registered, whatever it is (a socket, a pipe, a pidfd): the core
 * calls set() with the interest it needs and forget() before the descriptor is closed or
 * handed back.
 */
typedef struct backend {
  const char *name;
  /* Creates the readiness set and its handles on s->loop and points s->alive at the handle
   * that keeps the process alive while descriptors are open: 0 or an errno. */
  int (*open)(struct state *s);
  /* Moves fd from interest f->registered to `want` (0: out of the set): 0, or an errno with
   * the old interest still in force. */
  int (*set)(struct state *s, int fd, fd_state *f, unsigned want);
  /* fd is about to be closed or handed back: drop every trace of it, whatever its interest. */
  void (*forget)(struct state *s, int fd, fd_state *f);
  /* Up to `max` ready descriptors, without blocking: the count written to `out`. */
  int (*harvest)(struct state *s, ready_t *out, int max);
  /* The environment is going away: uv_close the backend's handles, close its descriptor. */
  void (*close)(struct state *s);
} backend_t;

typedef struct state {
  napi_env env;
  const backend_t *be;
  int epfd; /* epoll/kqueue: the private set */
  uv_loop_t *loop;
  uv_poll_t poll;   /* epoll/kqueue: watches the private set */
  uv_async_t keep;  /* uv_poll: never sent; ref'd while descriptors are open (the per-descriptor handles are unref'd) */
  uv_handle_t *alive;
  uv_timer_t timer;
  uv_check_t check;
  uv_idle_t idle;
  int handles_open;
  napi_async_cleanup_hook_handle cleanup;

  napi_ref callback;
  napi_ref receiver;
  napi_ref events_ref;
  napi_ref slab_ref;
  napi_async_context async_context;
  int32_t *events;
  size_t events_cap; /* in records */
  size_t nev;
  /* Reads land in the slab at increasing offsets and are never overwritten: JS hands the
   * protocol views of them, so a full slab is replaced (js_slab) rather than reused, and
   * the garbage collector frees the old one with its last view. */
  char *slab;
  size_t slab_len, slab_used;

  fd_state *fds;
  size_t fds_cap;
  size_t nopen; /* descriptors in the table: the poll handle is ref'd while > 0 */
  int *dirty;
  size_t ndirty, dirty_cap;
  int *ready; /* uv_poll backend: descriptors with readiness noted, in the order noted */
  size_t nready, ready_cap;
  /* The staging area and the write queue are JS ArrayBuffers: JS copies a write's bytes
   * into staging and appends [fd, offset, length] to the queue with no call into C; C
   * takes the queue before any descriptor operation and after every batch. */
  char *staging;
  size_t staging_cap;
  int32_t *queue;
  size_t queue_cap; /* in records */
  int32_t *ctl;
  napi_ref staging_ref, queue_ref, ctl_ref;

  int wake_pending;
  int in_batch;
  int rebuilds; /* times the epoll set was rebuilt to shed a registration it could not delete */
  int initialised;
  int timer_armed;
} state_t;

/* ---- helpers --------------------------------------------------------------------- */

#define CHECK(call)                                                       \
  do {                                                                    \
    if ((call) != napi_ok) {                                              \
      napi_throw_error(env, NULL, "@loop/selector: " #call " failed");    \
      return NULL;                                                        \
    }                                                                     \
  } while (0)

static state_t *get_state(napi_env env) {
  void *data = NULL;
  napi_get_instance_data(env, &data);
  return (state_t *)data;
}

static napi_value make_int(napi_env env, int64_t v) {
  napi_value out;
  napi_create_int64(env, v, &out);
  return out;
}

static int arg_int(napi_env env, napi_value v, int32_t *out) { return napi_get_value_int32(env, v, out) == napi_ok; }

#if HAVE_SELECTOR

static fd_state *slot(state_t *s, int fd) {
  if (fd < 0) return NULL;
  if ((size_t)fd >= s->fds_cap) {
    size_t cap = s->fds_cap ? s->fds_cap : 256;
    while (cap <= (size_t)fd) cap *= 2;
    fd_state *grown = realloc(s->fds, cap * sizeof(fd_state));
    if (!grown) return NULL;
    memset(grown + s->fds_cap, 0, (cap - s->fds_cap) * sizeof(fd_state));
    s->fds = grown;
    s->fds_cap = cap;
  }
  return &s->fds[fd];
}

static fd_state *known(state_t *s, int fd) {
  if (fd < 0 || (size_t)fd >= s->fds_cap || s->fds[fd].mode == MODE_NONE) return NULL;
  return &s->fds[fd];
}

static void emit(state_t *s, int fd, int kind, int a, int b) {
  /* The array is sized so that a batch cannot fill it (see init); a full array drops the
   * record rather than writing past it. */
  if (s->nev >= s->events_cap) return;
  int32_t *r = s->events + s->nev * 4;
  r[0] = fd;
  r[1] = kind;
  r[2] = a;
  r[3] = b;
  s->nev++;
}

static void update_refs(state_t *s) {
  if (s->nopen > 0) uv_ref(s->alive);
  else uv_unref(s->alive);
}

static void deliver(state_t *s);

/* epoll and kqueue: the private set's descriptor became readable in libuv's poll phase. */
static void on_set_ready(uv_poll_t *h, int status, int events) {
  (void)status;
  (void)events;
  deliver((state_t *)h->data);
}

static void on_handle_closed(uv_handle_t *h);
static void handle_gone(state_t *s);

/* epoll and kqueue share this: one uv_poll_t on the set's descriptor, unref'd until a
 * descriptor is registered. */
static int watch_set(state_t *s) {
  int rc = uv_poll_init(s->loop, &s->poll, s->epfd);
  if (rc != 0) return -rc;
  s->poll.data = s;
  s->handles_open++;
  s->alive = (uv_handle_t *)&s->poll;
  uv_poll_start(&s->poll, UV_READABLE, on_set_ready);
  uv_unref(s->alive);
  return 0;
}

static void close_set(state_t *s) {
  uv_close((uv_handle_t *)&s->poll, on_handle_closed);
  /* uv_close stopped the poll handle (synchronously), so the descriptor can go now. */
  close(s->epfd);
  s->epfd = -1;
}

#if HAVE_EPOLL
/* ---- backend: epoll ---------------------------------------------------------------- */

static uint32_t ep_mask(unsigned bits) { return ((bits & IO_READ) ? EPOLLIN : 0) | ((bits & IO_WRITE) ? EPOLLOUT : 0); }

static int ep_open(state_t *s) {
  s->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (s->epfd < 0) return errno;
  int rc = watch_set(s);
  if (rc != 0) {
    close(s->epfd);
    s->epfd = -1;
  }
  return rc;
}

static int ep_set(state_t *s, int fd, fd_state *f, unsigned want) {
  struct epoll_event ev;
  memset(&ev, 0, sizeof ev);
  ev.events = ep_mask(want);
  ev.data.fd = fd;
  int rc;
  if (want == 0) {
    epoll_ctl(s->epfd, EPOLL_CTL_DEL, fd, &ev);
    return 0;
  }
  if (f->registered == 0) {
    rc = epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev);
    if (rc != 0 && errno == EEXIST) rc = epoll_ctl(s->epfd, EPOLL_CTL_MOD, fd, &ev);
  } else {
    rc = epoll_ctl(s->epfd, EPOLL_CTL_MOD, fd, &ev);
  }
  return rc != 0 ? errno : 0;
}

static void ep_forget(state_t *s, int fd, fd_state *f) {
  struct epoll_event none;
  memset(&none, 0, sizeof none);
  if (f->registered) epoll_ctl(s->epfd, EPOLL_CTL_DEL, fd, &none);
}

/* A record for a descriptor number we no longer own, which EPOLL_CTL_DEL cannot remove: the
 * number was closed (EBADF) or now names another file (ENOENT) while the registered open
 * file description lives on in a duplicate (a child process, dup()). epoll keys entries
 * by description, so nothing short of a new set sheds it, or it is reported on every
 * iteration (libuv#1148). Build a new set with what we do own, and put it under the same
 * descriptor number so that libuv's poll handle watches it after a stop/start. */
static void ep_rebuild(state_t *s) {
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) return;
  for (size_t fd = 0; fd < s->fds_cap; fd++) {
    fd_state *f = &s->fds[fd];
    if (f->mode == MODE_NONE || f->registered == 0) continue;
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = ep_mask(f->registered);
    ev.data.fd = (int)fd;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, (int)fd, &ev) != 0) f->registered = 0;
  }
  uv_poll_stop(&s->poll);
  if (dup3(ep, s->epfd, O_CLOEXEC) < 0) {
    close(ep);
    uv_poll_start(&s->poll, UV_READABLE, on_set_ready);
    return;
  }
  close(ep);
  uv_poll_start(&s->poll, UV_READABLE, on_set_ready);
  s->rebuilds++;
}

static int ep_harvest(state_t *s, ready_t *out, int max) {
  struct epoll_event evs[MAX_HARVEST];
  if (max > MAX_HARVEST) max = MAX_HARVEST;
  int n, k = 0, stale = 0;
  do n = epoll_wait(s->epfd, evs, max, 0);
  while (n < 0 && errno == EINTR);
  for (int i = 0; i < n; i++) {
    int fd = evs[i].data.fd;
    fd_state *f = known(s, fd);
    if (!f || f->registered == 0) {
      struct epoll_event none;
      memset(&none, 0, sizeof none);
      if (epoll_ctl(s->epfd, EPOLL_CTL_DEL, fd, &none) != 0) stale = 1;
      continue;
    }
    uint32_t ev = evs[i].events;
    out[k].fd = fd;
    out[k].bits = ((ev & EPOLLIN) ? IO_READ : 0) | ((ev & EPOLLOUT) ? IO_WRITE : 0) | ((ev & EPOLLHUP) ? IO_HUP : 0) | ((ev & EPOLLERR) ? IO_ERR : 0);
    k++;
  }
  if (stale) ep_rebuild(s);
  return k;
}

static const backend_t backend_epoll = {"epoll", ep_open, ep_set, ep_forget, ep_harvest, close_set};
#endif /* HAVE_EPOLL */

#if HAVE_KQUEUE
/* ---- backend: kqueue --------------------------------------------------------------- */
/* The epoll backend's twin: one EVFILT_READ and one EVFILT_WRITE filter per descriptor,
 * added and deleted one at a time (EV_ADD/EV_DELETE) so that a refused change leaves the
 * old interest in force. Not built or run on Linux: see the README. kqueue keys filters by
 * descriptor number in this process and drops them when the number is closed, so the
 * epoll set's stale registrations (libuv#1148) cannot happen, and a kqueue is not
 * inherited by a child of fork() at all. */

static int kq_change(state_t *s, int fd, int filter, int add) {
  struct kevent ch;
  /* udata 0, not NULL: it is an integer on older NetBSD. */
  EV_SET(&ch, (uintptr_t)fd, filter, add ? EV_ADD : EV_DELETE, 0, 0, 0);
  return kevent(s->epfd, &ch, 1, NULL, 0, NULL) < 0 ? errno : 0;
}

static int kq_open(state_t *s) {
  s->epfd = kqueue();
  if (s->epfd < 0) return errno;
  /* Not inherited across fork(); FD_CLOEXEC covers exec after a posix_spawn-style start too. */
  fcntl(s->epfd, F_SETFD, FD_CLOEXEC);
  int rc = watch_set(s);
  if (rc != 0) {
    close(s->epfd);
    s->epfd = -1;
  }
  return rc;
}

static int kq_set(state_t *s, int fd, fd_state *f, unsigned want) {
  unsigned had = f->registered;
  int rc;
  if ((want ^ had) & IO_READ) {
    rc = kq_change(s, fd, EVFILT_READ, want & IO_READ);
    /* Deleting what is gone already (ENOENT) is not a failure. */
    if (rc != 0 && (want & IO_READ)) return rc;
  }
  if ((want ^ had) & IO_WRITE) {
    rc = kq_change(s, fd, EVFILT_WRITE, want & IO_WRITE);
    if (rc != 0 && (want & IO_WRITE)) {
      /* Undo the read change, so the old interest stays whole. */
      if ((want ^ had) & IO_READ) kq_change(s, fd, EVFILT_READ, had & IO_READ);
      return rc;
    }
  }
  return 0;
}

static void kq_forget(state_t *s, int fd, fd_state *f) {
  if (f->registered & IO_READ) kq_change(s, fd, EVFILT_READ, 0);
  if (f->registered & IO_WRITE) kq_change(s, fd, EVFILT_WRITE, 0);
}

static int kq_harvest(state_t *s, ready_t *out, int max) {
  struct kevent evs[MAX_HARVEST];
  struct timespec zero = {0, 0};
  if (max > MAX_HARVEST) max = MAX_HARVEST;
  int n, k = 0;
  do n = kevent(s->epfd, NULL, 0, evs, max, &zero);
  while (n < 0 && errno == EINTR);
  for (int i = 0; i < n; i++) {
    int fd = (int)evs[i].ident;
    fd_state *f = known(s, fd);
    if (!f || f->registered == 0) continue;
    /* One record per filter: a descriptor ready both ways comes twice, handled twice. */
    unsigned bits = evs[i].filter == EVFILT_READ ? IO_READ : evs[i].filter == EVFILT_WRITE ? IO_WRITE : 0;
    /* EV_EOF with fflags set is a socket error (epoll's EPOLLERR); EV_ERROR only comes back
     * for a refused change, which the harvest does not make. */
    if (evs[i].flags & EV_EOF) bits |= evs[i].fflags ? (IO_HUP | IO_ERR) : IO_HUP;
    if (evs[i].flags & EV_ERROR) bits |= IO_ERR;
    out[k].fd = fd;
    out[k].bits = bits;
    k++;
  }
  return k;
}

static const backend_t backend_kqueue = {"kqueue", kq_open, kq_set, kq_forget, kq_harvest, close_set};
#endif /* HAVE_KQUEUE */

/* ---- backend: uv_poll_t per descriptor ---------------------------------------------- */
/* The portable one: each descriptor gets its own uv_poll_t in libuv's set. libuv's rules:
 * one uv_poll_t per descriptor (uv_poll_init refuses a descriptor libuv already watches with
 * EEXIST, a Node socket's included), the handle is stopped before its descriptor is closed,
 * and freed only in its close callback. Callbacks note readiness here; the check phase of
 * the same iteration delivers it all in one batch (on_check). */

static void up_note(state_t *s, int fd, fd_state *f, unsigned bits) {
  if (f->ready == 0) {
    if (s->nready == s->ready_cap) {
      size_t cap = s->ready_cap ? s->ready_cap * 2 : 256;
      int *grown = realloc(s->ready, cap * sizeof(int));
      /* Out of memory: level-triggered, it is reported again next iteration. */
      if (!grown) return;
      s->ready = grown;
      s->ready_cap = cap;
    }
    s->ready[s->nready++] = fd;
  }
  f->ready |= (uint8_t)bits;
}

static void up_on_poll(uv_poll_t *h, int status, int events) {
  state_t *s = (state_t *)h->data;
  uv_os_fd_t fd;
  if (uv_fileno((uv_handle_t *)h, &fd) != 0) return;
  fd_state *f = known(s, fd);
  if (!f || f->handle != h) return;
  unsigned bits;
  if (status < 0) {
    /* POLLERR: libuv stopped the handle. Report every interest it had, with the error (a read
     * or getsockopt(SO_ERROR) then says which); the harvest restarts it if still wanted. */
    bits = f->registered | IO_ERR;
    f->registered = 0;
  } else {
    bits = ((events & UV_READABLE) ? IO_READ : 0) | ((events & UV_WRITABLE) ? IO_WRITE : 0) | ((events & UV_DISCONNECT) ? IO_HUP : 0);
  }
  up_note(s, fd, f, bits);
  /* The poll phase is followed by the check phase, which delivers (on_check). */
}

static void up_on_closed(uv_handle_t *h) {
  state_t *s = (state_t *)h->data;
  free(h);
  handle_gone(s);
}

static void up_on_async(uv_async_t *h) { (void)h; }

static int up_open(state_t *s) {
  int rc = uv_async_init(s->loop, &s->keep, up_on_async);
  if (rc != 0) return -rc;
  s->keep.data = s;
  s->handles_open++;
  s->alive = (uv_handle_t *)&s->keep;
  uv_unref(s->alive);
  return 0;
}

static int up_set(state_t *s, int fd, fd_state *f, unsigned want) {
  uv_poll_t *h = (uv_poll_t *)f->handle;
  if (want == 0) {
    /* Stopped, not closed: a paused stream starts again cheaply. forget() closes it. */
    if (h) uv_poll_stop(h);
    return 0;
  }
  if (!h) {
    h = malloc(sizeof *h);
    if (!h) return ENOMEM;
    int rc = uv_poll_init(s->loop, h, fd);
    if (rc != 0) {
      free(h);
      return -rc;
    }
    h->data = s;
    s->handles_open++;
    f->handle = h;
    /* The process is kept alive by s->keep while descriptors are open, paused ones too, as
     * the epoll backend's one handle does: not by each descriptor's interest. */
    uv_unref((uv_handle_t *)h);
  }
  int rc = uv_poll_start(h, ((want & IO_READ) ? UV_READABLE : 0) | ((want & IO_WRITE) ? UV_WRITABLE : 0), up_on_poll);
  return rc != 0 ? -rc : 0;
}

static void up_forget(state_t *s, int fd, fd_state *f) {
  (void)s;
  (void)fd;
  uv_poll_t *h = (uv_poll_t *)f->handle;
  f->ready = 0; /* a note of this descriptor still in s->ready is skipped by the harvest */
  if (!h) return;
  f->handle = NULL;
  /* uv_poll_stop takes the descriptor out of libuv's set now; the handle's memory goes in
   * its close callback. The caller may close the descriptor as soon as this returns. */
  uv_poll_stop(h);
  uv_close((uv_handle_t *)h, up_on_closed);
}

static int up_harvest(state_t *s, ready_t *out, int max) {
  int k = 0;
  size_t i = 0;
  for (; i < s->nready && k < max; i++) {
    int fd = s->ready[i];
    fd_state *f = known(s, fd);
    if (!f || f->ready == 0) continue;
    out[k].fd = fd;
    out[k].bits = f->ready;
    f->ready = 0;
    k++;
  }
  /* What did not fit stays noted for the next batch (on_check keeps the loop from blocking). */
  if (i < s->nready) memmove(s->ready, s->ready + i, (s->nready - i) * sizeof(int));
  s->nready -= i;
  return k;
}

static void up_close(state_t *s) { uv_close((uv_handle_t *)&s->keep, on_handle_closed); }

static const backend_t backend_uv_poll = {"uv_poll", up_open, up_set, up_forget, up_harvest, up_close};

/* Compiled in, the platform's default first (src/reactor.ts picks by name). */
static const backend_t *const backends[] = {
#if HAVE_EPOLL
    &backend_epoll,
#endif
#if HAVE_KQUEUE
    &backend_kqueue,
#endif
    &backend_uv_poll,
};
#define NBACKENDS (sizeof backends / sizeof backends[0])

/* ---- interest ---------------------------------------------------------------------- */

/* Brings the backend's registration of fd in line with what it needs now: 0, or the errno
 * of a refused registration (epoll refuses regular files with EPERM). */
static int sync_interest(state_t *s, int fd, fd_state *f) {
  unsigned want = 0;
  switch (f->mode) {
    case MODE_WATCH: want = f->watch; break;
    case MODE_LISTEN: want = (f->flags & FL_READING) ? IO_READ : 0; break;
    case MODE_CONNECT: want = IO_WRITE; break;
    case MODE_STREAM:
      if (f->flags & FL_READING) want |= IO_READ;
      if (f->out_len > f->out_off && !(f->flags & FL_OUT_DEAD)) want |= IO_WRITE;
      break;
  }
  if (want == f->registered) return 0;
  int rc = s->be->set(s, fd, f, want);
  if (rc != 0) return rc;
  f->registered = (uint8_t)want;
  return 0;
}

/* Takes fd out of the backend before it is closed or handed back. */
static void forget_fd(state_t *s, int fd, fd_state *f) {
  s->be->forget(s, fd, f);
  f->registered = 0;
}

static void on_idle(uv_idle_t *h) { (void)h; }

/* The idle handle only keeps libuv from blocking in poll; the check handle does the work. */
static void ensure_check(state_t *s) {
  if (!uv_is_active((uv_handle_t *)&s->idle)) uv_idle_start(&s->idle, on_idle);
}

static void mark_dirty(state_t *s, int fd, fd_state *f) {
  if (f->flags & FL_DIRTY) return;
  if (s->ndirty == s->dirty_cap) {
    size_t cap = s->dirty_cap ? s->dirty_cap * 2 : 256;
    int *grown = realloc(s->dirty, cap * sizeof(int));
    if (!grown) return;
    s->dirty = grown;
    s->dirty_cap = cap;
  }
  s->dirty[s->ndirty++] = fd;
  f->flags |= FL_DIRTY;
  /* Outside a batch nothing else would flush it before libuv blocks in poll. */
  if (!s->in_batch) ensure_check(s);
}

static void release_out(fd_state *f) {
  free(f->out);
  f->out = NULL;
  f->out_off = f->out_len = f->out_cap = 0;
  f->staged_len = 0;
}

static size_t pending_bytes(const fd_state *f) { return f->out_len - f->out_off + f->staged_len; }

/* Appends to the backlog; -1 when out of memory. */
static int append_out(fd_state *f, const char *data, size_t len) {
  if (f->out_off > 0 && f->out_off == f->out_len) f->out_off = f->out_len = 0;
  size_t need = f->out_len + len;
  if (need > f->out_cap) {
    if (f->out_off > 0) {
      memmove(f->out, f->out + f->out_off, f->out_len - f->out_off);
      f->out_len -= f->out_off;
      f->out_off = 0;
      need = f->out_len + len;
    }
    size_t cap = f->out_cap ? f->out_cap : 4096;
    while (cap < need) cap *= 2;
    char *grown = realloc(f->out, cap);
    if (!grown) return -1;
    f->out = grown;
    f->out_cap = cap;
  }
  memcpy(f->out + f->out_len, data, len);
  f->out_len += len;
  return 0;
}

/* Sends what fd has buffered: asyncio's _write_ready. Registers write interest only while
 * bytes are left after EAGAIN. */
static void flush_fd(state_t *s, int fd, fd_state *f) {
  int blocked = 0;
  if (f->staged_len > 0 && !(f->flags & FL_OUT_DEAD)) {
    /* asyncio's write(): try the socket at once; only the rest is kept. */
    const char *p = s->staging + f->staged_off;
    size_t left = f->staged_len;
    f->staged_len = 0;
    while (left > 0) {
      ssize_t n = (f->flags & FL_PIPE) ? write(fd, p, left) : send(fd, p, left, SEND_FLAGS);
      if (n > 0) {
        p += n;
        left -= (size_t)n;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (append_out(f, p, left) != 0) f->flags |= FL_OUT_DEAD;
        blocked = 1;
        break;
      }
      f->flags |= FL_OUT_DEAD;
      emit(s, fd, REC_ERROR, n < 0 ? errno : EPIPE, 2);
      release_out(f);
      f->flags &= ~FL_NOTIFY;
      break;
    }
  }
  while (!blocked && f->out_len > f->out_off && !(f->flags & FL_OUT_DEAD)) {
    ssize_t n = (f->flags & FL_PIPE) ? write(fd, f->out + f->out_off, f->out_len - f->out_off) : send(fd, f->out + f->out_off, f->out_len - f->out_off, SEND_FLAGS);
    if (n > 0) {
      f->out_off += (size_t)n;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    f->flags |= FL_OUT_DEAD;
    emit(s, fd, REC_ERROR, n < 0 ? errno : EPIPE, 2);
    release_out(f);
    f->flags &= ~FL_NOTIFY;
    break;
  }
  /* An idle connection holds no buffer. */
  if (f->out_off == f->out_len && f->out) release_out(f);
  size_t left = f->out_len - f->out_off;
  if (left != f->reported) {
    f->reported = left;
    emit(s, fd, REC_BACKLOG, (int)(left > INT32_MAX ? INT32_MAX : left), 0);
  }
  if ((f->flags & FL_NOTIFY) && left <= f->low) {
    f->flags &= ~FL_NOTIFY;
    emit(s, fd, REC_DRAINED, (int)left, 0);
  }
  if (left == 0 && (f->flags & FL_EOF_PENDING) && !(f->flags & FL_SHUT)) {
    f->flags &= ~FL_EOF_PENDING;
    f->flags |= FL_SHUT;
    shutdown(fd, SHUT_WR);
  }
  sync_interest(s, fd, f);
}

/* Takes the writes JS queued in shared memory, in order, as if each had called write(). */
static void take_queue(state_t *s) {
  if (!s->ctl) return;
  int32_t n = s->ctl[CTL_QUEUED];
  if (n <= 0) return;
  s->ctl[CTL_QUEUED] = 0;
  for (int32_t i = 0; i < n && (size_t)i < s->queue_cap; i++) {
    int32_t *r = s->queue + (size_t)i * 3;
    int fd = r[0];
    uint32_t off = (uint32_t)r[1], len = (uint32_t)r[2];
    fd_state *f = known(s, fd);
    if (!f || f->mode != MODE_STREAM || (f->flags & FL_OUT_DEAD)) continue;
    if (f->out_len == f->out_off && (f->staged_len == 0 || f->staged_off + f->staged_len == off)) {
      if (f->staged_len == 0) f->staged_off = off;
      f->staged_len += len;
    } else {
      /* Not contiguous with what it has staged (another descriptor wrote in between), or a
       * backlog exists: keep the order by moving everything to the backlog. */
      if (f->staged_len > 0) {
        if (append_out(f, s->staging + f->staged_off, f->staged_len) != 0) f->flags |= FL_OUT_DEAD;
        f->staged_len = 0;
      }
      if (append_out(f, s->staging + off, len) != 0) f->flags |= FL_OUT_DEAD;
    }
    mark_dirty(s, fd, f);
  }
}

static void flush_dirty(state_t *s) {
  take_queue(s);
  /* Flushing may emit records but never dirties another descriptor. */
  for (size_t i = 0; i < s->ndirty; i++) {
    int fd = s->dirty[i];
    fd_state *f = known(s, fd);
    if (!f) continue;
    f->flags &= ~FL_DIRTY;
    if (f->mode == MODE_STREAM) flush_fd(s, fd, f);
  }
  s->ndirty = 0;
  if (s->ctl) {
    s->ctl[CTL_STAGED] = 0;
    s->ctl[CTL_FLUSHES]++;
  }
}

/* ---- sockets ----------------------------------------------------------------------- */

/* The cleared slot for a descriptor the kernel just gave us. An occupant still under this
 * number was closed behind our back (a watched fd closed before removeReader): drop what we
 * held for it first, its uv_poll_t above all (libuv refuses a second one for a number). */
static fd_state *claim(state_t *s, int fd) {
  fd_state *f = slot(s, fd);
  if (!f) return NULL;
  if (f->mode != MODE_NONE) {
    forget_fd(s, fd, f);
    release_out(f);
    s->nopen--;
  }
  memset(f, 0, sizeof *f);
  return f;
}

#ifndef SOCK_CLOEXEC
/* macOS has neither SOCK_NONBLOCK/SOCK_CLOEXEC nor accept4: the flags are set right after,
 * as libuv does there (a fork+exec on another thread in between would inherit the socket). */
static int set_socket_flags(int fd) {
  int fl = fcntl(fd, F_GETFD);
  if (fl < 0 || fcntl(fd, F_SETFD, fl | FD_CLOEXEC) < 0) return -1;
  fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) return -1;
#ifdef SO_NOSIGPIPE
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
  return 0;
}
#endif

/* A non-blocking, close-on-exec stream socket, or -1 with errno. */
static int open_socket(int domain) {
#ifdef SOCK_CLOEXEC
  return socket(domain, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
#else
  int fd = socket(domain, SOCK_STREAM, 0);
  if (fd >= 0 && set_socket_flags(fd) != 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
#endif
}

/* accept, the new socket non-blocking and close-on-exec; -1 with errno. */
static int accept_socket(int fd) {
#ifdef SOCK_CLOEXEC
  return accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
#else
  int c = accept(fd, NULL, NULL);
  if (c >= 0 && set_socket_flags(c) != 0) {
    int e = errno;
    close(c);
    errno = e;
    return -1;
  }
  return c;
#endif
}

/* ---- the harvest ----------------------------------------------------------------- */

static void on_stream_ready(state_t *s, int fd, fd_state *f, unsigned ev) {
  if ((ev & (IO_READ | IO_HUP | IO_ERR)) && (f->flags & FL_READING)) {
    size_t room = s->slab_len - s->slab_used;
    if (room >= 4096) {
      size_t want = room < READ_CHUNK ? room : READ_CHUNK;
      ssize_t n;
      do n = read(fd, s->slab + s->slab_used, want);
      while (n < 0 && errno == EINTR);
      if (n > 0) {
        emit(s, fd, REC_DATA, (int)s->slab_used, (int)n);
        s->slab_used += (size_t)n;
        s->ctl[CTL_SLAB] = (int32_t)s->slab_used;
      } else if (n == 0) {
        /* Stop reading at EOF: a half-closed socket stays readable forever. */
        f->flags &= ~FL_READING;
        emit(s, fd, REC_EOF, 0, 0);
        sync_interest(s, fd, f);
      } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
        f->flags &= ~FL_READING;
        emit(s, fd, REC_ERROR, errno, 1);
        sync_interest(s, fd, f);
      }
    }
    /* No room: the record stays ready (level-triggered) for the next iteration, after JS
     * has replaced the slab. */
  }
  if ((ev & (IO_WRITE | IO_ERR | IO_HUP)) && f->out_len > f->out_off) flush_fd(s, fd, f);
  if ((ev & IO_ERR) && !(f->flags & FL_READING) && f->registered != 0 && f->out_len == f->out_off) {
    /* An error we would otherwise never consume: report it and leave the set. */
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    emit(s, fd, REC_ERROR, err ? err : ECONNRESET, 1);
    f->flags |= FL_OUT_DEAD;
    sync_interest(s, fd, f);
  }
}

static void on_listen_ready(state_t *s, int fd, fd_state *f) {
  for (int i = 0; i < MAX_ACCEPTS && s->nev + 1 < s->events_cap; i++) {
    int c = accept_socket(fd);
    if (c < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      /* EMFILE and friends: JS pauses the listener and retries later (asyncio's
       * _accept_connection backs off the same way); level-triggered, it would spin. */
      f->flags &= ~FL_READING;
      sync_interest(s, fd, f);
      emit(s, fd, REC_ERROR, errno, 3);
      break;
    }
    if (f->flags & FL_TCP) {
      int one = 1;
      setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    fd_state *cf = claim(s, c);
    /* claim() may have moved the table. */
    f = &s->fds[fd];
    if (!cf) {
      close(c);
      continue;
    }
    cf->mode = MODE_STREAM;
    s->nopen++;
    emit(s, fd, REC_ACCEPT, c, 0);
  }
}

static void harvest(state_t *s) {
  ready_t ready[MAX_HARVEST];
  /* Leave room for what each record may emit (a read and a flush, or a burst of accepts). */
  size_t room = s->events_cap > s->nev ? (s->events_cap - s->nev) / (MAX_ACCEPTS + 2) : 0;
  if (room == 0) return;
  int max = room < MAX_HARVEST ? (int)room : MAX_HARVEST;
  int n = s->be->harvest(s, ready, max);
  for (int i = 0; i < n; i++) {
    int fd = ready[i].fd;
    unsigned ev = ready[i].bits;
    fd_state *f = known(s, fd);
    if (!f) continue;
    switch (f->mode) {
      case MODE_WATCH:
        if ((ev & (IO_READ | IO_HUP | IO_ERR)) && (f->watch & IO_READ)) emit(s, fd, REC_READABLE, 0, 0);
        if ((ev & (IO_WRITE | IO_HUP | IO_ERR)) && (f->watch & IO_WRITE)) emit(s, fd, REC_WRITABLE, 0, 0);
        break;
      case MODE_LISTEN:
        on_listen_ready(s, fd, f);
        break;
      case MODE_CONNECT: {
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
        f->mode = MODE_STREAM;
        emit(s, fd, REC_CONNECTED, err, 0);
        break;
      }
      case MODE_STREAM:
        on_stream_ready(s, fd, f, ev);
        break;
    }
    /* Accepts may have moved the table. A backend may also have dropped the registration
     * while reporting (libuv stops a uv_poll_t on POLLERR): restore what is still wanted. */
    f = known(s, fd);
    if (f) sync_interest(s, fd, f);
  }
}

/* The slab's memory is V8's: should JS code detach its ArrayBuffer (a transfer), stop
 * reading into it; the JS side sees a full slab and replaces it. Reads happen only in
 * harvest(), right after this, with no JS in between. */
static void check_slab(state_t *s) {
  if (!s->slab) return;
  napi_value ab;
  bool detached = true;
  if (napi_get_reference_value(s->env, s->slab_ref, &ab) == napi_ok && ab != NULL) napi_is_detached_arraybuffer(s->env, ab, &detached);
  if (detached) {
    s->slab = NULL;
    s->slab_len = s->slab_used = 0;
    s->ctl[CTL_SLAB] = INT32_MAX;
  }
}

/* One batch: harvest, one call into JS, then flush what it wrote. */
static void deliver(state_t *s) {
  if (!s->initialised) return;
  napi_env env = s->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  check_slab(s);
  harvest(s);
  s->wake_pending = 0;
  napi_value fn, recv, argv[1], result;
  s->in_batch = 1;
  if (napi_get_reference_value(env, s->callback, &fn) == napi_ok && napi_get_reference_value(env, s->receiver, &recv) == napi_ok) {
    argv[0] = make_int(env, (int64_t)s->nev);
    /* napi_make_callback, not napi_call_function: it enters the async context and drains
     * the microtask queue when the outermost callback returns. An exception thrown by the
     * callback is Node's uncaught exception, like any throwing callback of Node's own. */
    napi_status st = napi_make_callback(env, s->async_context, recv, fn, 1, argv, &result);
    if (st == napi_pending_exception) {
      napi_value exc;
      napi_get_and_clear_last_exception(env, &exc);
      napi_fatal_exception(env, exc);
    }
  }
  s->in_batch = 0;
  s->nev = 0;
  flush_dirty(s);
  napi_close_handle_scope(env, scope);
  /* Records emitted by the flush (an error, a drained buffer) go out in the check phase. */
  if (s->nev > 0 || s->wake_pending) ensure_check(s);
}

static void on_timer(uv_timer_t *h) {
  state_t *s = (state_t *)h->data;
  s->timer_armed = 0;
  if (s->ctl) s->ctl[CTL_TIMER] = 0;
  deliver(s);
}

static void on_check(uv_check_t *h) {
  state_t *s = (state_t *)h->data;
  /* s->nready: the uv_poll backend's notes of this iteration's poll phase. */
  if (s->wake_pending || s->nev > 0 || s->nready > 0) {
    deliver(s);
  } else if (s->ndirty > 0 || (s->ctl && s->ctl[CTL_QUEUED] > 0)) {
    flush_dirty(s);
    if (s->nev > 0) {
      deliver(s);
    }
  }
  /* Notes left over from a full batch keep libuv from blocking too. */
  if (s->nready > 0) ensure_check(s);
  else if (!s->wake_pending && s->nev == 0 && s->ndirty == 0 && !(s->ctl && s->ctl[CTL_QUEUED] > 0)) uv_idle_stop(&s->idle);
}

#endif /* HAVE_SELECTOR */

/* ---- lifetime -------------------------------------------------------------------- */

/* Every handle's close callback ends here; the state goes with the last one. Handles are
 * counted from their init: the four of init() and the backend's stay open until the
 * environment's cleanup, so the count only reaches 0 after it. */
static void handle_gone(state_t *s) {
  if (--s->handles_open > 0) return;
  napi_remove_async_cleanup_hook(s->cleanup);
  free(s->fds);
  free(s->dirty);
  free(s->ready);
  free(s);
}

static void on_handle_closed(uv_handle_t *h) { handle_gone((state_t *)h->data); }

static void on_env_cleanup(napi_async_cleanup_hook_handle handle, void *arg) {
  (void)handle;
  state_t *s = (state_t *)arg;
#if HAVE_SELECTOR
  int was_open = s->initialised;
  s->initialised = 0;
  if (was_open) {
    for (size_t fd = 0; fd < s->fds_cap; fd++) {
      fd_state *f = &s->fds[fd];
      if (f->mode == MODE_NONE) continue;
      forget_fd(s, (int)fd, f);
      /* Watched descriptors belong to the caller; the sockets are ours. */
      if (f->mode != MODE_WATCH) close((int)fd);
      release_out(f);
      f->mode = MODE_NONE;
    }
    uv_close((uv_handle_t *)&s->timer, on_handle_closed);
    uv_close((uv_handle_t *)&s->check, on_handle_closed);
    uv_close((uv_handle_t *)&s->idle, on_handle_closed);
    s->be->close(s);
  }
  if (s->handles_open > 0) return;
#endif
  napi_remove_async_cleanup_hook(s->cleanup);
  free(s);
}

/* ---- exported functions ---------------------------------------------------------- */

#define ARGS(n)                                  \
  size_t argc = n;                               \
  napi_value argv[n > 0 ? n : 1];                \
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL); \
  state_t *s = get_state(env);                   \
  (void)s;

/* init(onBatch, receiver, events, slab, staging, queue, ctl: ArrayBuffers, backend: a name of `backends`) */
static napi_value js_init(napi_env env, napi_callback_info info) {
  ARGS(8);
#if !HAVE_SELECTOR
  napi_throw_error(env, "ENOSYS", "@loop/selector: no native selector on this platform");
  return NULL;
#else
  if (s->initialised || s->be) {
    napi_throw_error(env, NULL, "@loop/selector: init() called twice in one thread");
    return NULL;
  }
  char wanted[16] = {0};
  size_t wanted_len = 0;
  CHECK(napi_get_value_string_utf8(env, argv[7], wanted, sizeof wanted, &wanted_len));
  const backend_t *be = NULL;
  for (size_t i = 0; i < NBACKENDS; i++)
    if (strcmp(backends[i]->name, wanted) == 0) be = backends[i];
  if (!be) {
    napi_throw_range_error(env, NULL, "@loop/selector: init(): no such backend on this platform");
    return NULL;
  }
  void *data;
  size_t len;
  CHECK(napi_get_arraybuffer_info(env, argv[2], &data, &len));
  s->events = (int32_t *)data;
  s->events_cap = len / 16;
  CHECK(napi_get_arraybuffer_info(env, argv[3], &data, &len));
  s->slab = (char *)data;
  s->slab_len = len;
  s->slab_used = 0;
  CHECK(napi_get_arraybuffer_info(env, argv[4], &data, &len));
  s->staging = (char *)data;
  s->staging_cap = len;
  CHECK(napi_get_arraybuffer_info(env, argv[5], &data, &len));
  s->queue = (int32_t *)data;
  s->queue_cap = len / 12;
  CHECK(napi_get_arraybuffer_info(env, argv[6], &data, &len));
  if (len < CTL_WORDS * 4) {
    napi_throw_range_error(env, NULL, "@loop/selector: the control array is too small");
    return NULL;
  }
  s->ctl = (int32_t *)data;
  CHECK(napi_create_reference(env, argv[4], 1, &s->staging_ref));
  CHECK(napi_create_reference(env, argv[5], 1, &s->queue_ref));
  CHECK(napi_create_reference(env, argv[6], 1, &s->ctl_ref));
  CHECK(napi_create_reference(env, argv[0], 1, &s->callback));
  CHECK(napi_create_reference(env, argv[1], 1, &s->receiver));
  CHECK(napi_create_reference(env, argv[2], 1, &s->events_ref));
  CHECK(napi_create_reference(env, argv[3], 1, &s->slab_ref));
  napi_value name;
  napi_create_string_utf8(env, "LoopSelector", NAPI_AUTO_LENGTH, &name);
  CHECK(napi_async_init(env, NULL, name, &s->async_context));

  CHECK(napi_get_uv_event_loop(env, &s->loop));
  /* The backend's handle (s->alive) starts unref'd: nothing is registered yet. */
  int rc = be->open(s);
  if (rc != 0) {
    napi_throw_error(env, NULL, "@loop/selector: the readiness backend could not be opened");
    return NULL;
  }
  s->be = be;
  uv_timer_init(s->loop, &s->timer);
  uv_check_init(s->loop, &s->check);
  uv_idle_init(s->loop, &s->idle);
  s->timer.data = s->check.data = s->idle.data = s;
  s->handles_open += 3;
  uv_check_start(&s->check, on_check);
  /* The check handle never keeps the process alive (it only runs when something else turns
   * the loop); the idle handle, when started, does, which is what a pending wake-up or
   * write wants. */
  uv_unref((uv_handle_t *)&s->check);
  s->initialised = 1;
  return NULL;
#endif
}

#if HAVE_SELECTOR
/* arm(ms): the loop timer; ms < 0 disarms. A ref'd timer keeps the process alive, as
 * setTimeout does. */
static napi_value js_arm(napi_env env, napi_callback_info info) {
  ARGS(1);
  double ms;
  napi_get_value_double(env, argv[0], &ms);
  if (ms < 0) {
    uv_timer_stop(&s->timer);
    s->timer_armed = 0;
  } else {
    uv_timer_start(&s->timer, on_timer, (uint64_t)ms, 0);
    s->timer_armed = 1;
  }
  if (s->ctl) s->ctl[CTL_TIMER] = s->timer_armed;
  return NULL;
}

/* slab(arrayBuffer): the next reads land here, from offset 0. The old slab is released
 * to the garbage collector, which frees it once no view of it is left. */
static napi_value js_slab(napi_env env, napi_callback_info info) {
  ARGS(1);
  void *data;
  size_t len;
  CHECK(napi_get_arraybuffer_info(env, argv[0], &data, &len));
  if (len > INT32_MAX) {
    napi_throw_range_error(env, NULL, "@loop/selector: slab(): too large");
    return NULL;
  }
  napi_ref ref;
  CHECK(napi_create_reference(env, argv[0], 1, &ref));
  if (s->slab_ref) napi_delete_reference(env, s->slab_ref);
  s->slab_ref = ref;
  s->slab = (char *)data;
  s->slab_len = len;
  s->slab_used = 0;
  s->ctl[CTL_SLAB] = 0;
  return NULL;
}

/* flushSoon(): send what JS queued outside a batch, in this iteration's check phase */
static napi_value js_flush_soon(napi_env env, napi_callback_info info) {
  ARGS(0);
  ensure_check(s);
  return NULL;
}

/* wake(): deliver a batch in this iteration's check phase (the next one's when called from
 * the check phase itself), without letting libuv block in poll first. */
static napi_value js_wake(napi_env env, napi_callback_info info) {
  ARGS(0);
  s->wake_pending = 1;
  ensure_check(s);
  return NULL;
}

static int fill_addr(napi_env env, int family, napi_value addrv, int port, struct sockaddr_storage *ss, socklen_t *len) {
  char buf[256];
  size_t n = 0;
  memset(ss, 0, sizeof *ss);
  if (napi_get_value_string_utf8(env, addrv, buf, sizeof buf, &n) != napi_ok) return -EINVAL;
  if (family == 4) {
    struct sockaddr_in *a = (struct sockaddr_in *)ss;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, buf, &a->sin_addr) != 1) return -EINVAL;
    *len = sizeof *a;
  } else if (family == 6) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons((uint16_t)port);
    if (inet_pton(AF_INET6, buf, &a->sin6_addr) != 1) return -EINVAL;
    *len = sizeof *a;
  } else {
    struct sockaddr_un *a = (struct sockaddr_un *)ss;
    if (n >= sizeof a->sun_path) return -ENAMETOOLONG;
    a->sun_family = AF_UNIX;
    memcpy(a->sun_path, buf, n + 1);
    *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
  }
  return 0;
}

static int domain_of(int family) { return family == 4 ? AF_INET : family == 6 ? AF_INET6 : AF_UNIX; }

static int adopt(state_t *s, int fd, int mode, uint16_t flags) {
  fd_state *f = claim(s, fd);
  if (!f) {
    close(fd);
    return -ENOMEM;
  }
  f->mode = (uint8_t)mode;
  f->flags = flags;
  s->nopen++;
  update_refs(s);
  sync_interest(s, fd, f);
  return fd;
}

/* listen(family 4|6|0, address|path, port, backlog, reusePort, dualStack) -> fd or -errno */
static napi_value js_listen(napi_env env, napi_callback_info info) {
  ARGS(6);
  int32_t family, port, backlog;
  bool reuse_port, dual;
  arg_int(env, argv[0], &family);
  arg_int(env, argv[2], &port);
  arg_int(env, argv[3], &backlog);
  napi_get_value_bool(env, argv[4], &reuse_port);
  napi_get_value_bool(env, argv[5], &dual);
  struct sockaddr_storage ss;
  socklen_t len = 0;
  int r = fill_addr(env, family, argv[1], port, &ss, &len);
  if (r < 0) return make_int(env, r);
  int fd = open_socket(domain_of(family));
  if (fd < 0) return make_int(env, -errno);
  int one = 1;
  if (family != 0) {
    /* Node sets SO_REUSEADDR on listening TCP sockets too (restarts reuse TIME_WAIT ports). */
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (reuse_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
      int e = errno;
      close(fd);
      return make_int(env, -e);
    }
    if (family == 6) {
      int v6only = dual ? 0 : 1;
      setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
    }
  }
  if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, backlog) != 0) {
    int e = errno;
    close(fd);
    return make_int(env, -e);
  }
  return make_int(env, adopt(s, fd, MODE_LISTEN, family != 0 ? FL_TCP : 0));
}

/* connect(family, address|path, port) -> fd (connecting; REC_CONNECTED follows) or -errno */
static napi_value js_connect(napi_env env, napi_callback_info info) {
  ARGS(3);
  int32_t family, port;
  arg_int(env, argv[0], &family);
  arg_int(env, argv[2], &port);
  struct sockaddr_storage ss;
  socklen_t len = 0;
  int r = fill_addr(env, family, argv[1], port, &ss, &len);
  if (r < 0) return make_int(env, r);
  int fd = open_socket(domain_of(family));
  if (fd < 0) return make_int(env, -errno);
  if (family != 0) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  int rc;
  do rc = connect(fd, (struct sockaddr *)&ss, len);
  while (rc != 0 && errno == EINTR);
  if (rc != 0 && errno != EINPROGRESS) {
    int e = errno;
    close(fd);
    return make_int(env, -e);
  }
  /* Connected at once (a Unix socket) or in progress: writability reports either. */
  return make_int(env, adopt(s, fd, MODE_CONNECT, 0));
}

/* watch(fd, events: 1 read | 2 write) -> 0 or -errno; events 0 stops watching */
static napi_value js_watch(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t fd, events;
  arg_int(env, argv[0], &fd);
  arg_int(env, argv[1], &events);
  fd_state *f = known(s, fd);
  if (f && f->mode != MODE_WATCH) return make_int(env, -EBUSY);
  if (events == 0) {
    if (f) {
      f->watch = 0;
      forget_fd(s, fd, f);
      f->mode = MODE_NONE;
      s->nopen--;
      update_refs(s);
    }
    return make_int(env, 0);
  }
  if (fcntl(fd, F_GETFD) < 0) return make_int(env, -errno);
  if (!f) {
    f = slot(s, fd);
    if (!f) return make_int(env, -ENOMEM);
    memset(f, 0, sizeof *f);
    f->mode = MODE_WATCH;
    s->nopen++;
    update_refs(s);
  }
  uint8_t before = f->watch;
  f->watch = (uint8_t)(((events & 1) ? IO_READ : 0) | ((events & 2) ? IO_WRITE : 0));
  int e = sync_interest(s, fd, f);
  if (e != 0) {
    /* epoll refuses regular files (EPERM), and so does uv_poll_init on Linux: asyncio's
     * selector refuses them too. uv_poll_init also refuses (EEXIST) a descriptor libuv
     * already watches for Node. */
    f->watch = before;
    if (f->registered == 0) {
      forget_fd(s, fd, f);
      f->mode = MODE_NONE;
      s->nopen--;
      update_refs(s);
    }
    return make_int(env, -e);
  }
  return make_int(env, 0);
}

/* reading(fd, on) */
static napi_value js_reading(napi_env env, napi_callback_info info) {
  ARGS(2);
  take_queue(s);
  int32_t fd;
  bool on;
  arg_int(env, argv[0], &fd);
  napi_get_value_bool(env, argv[1], &on);
  fd_state *f = known(s, fd);
  if (!f) return NULL;
  if (on) f->flags |= FL_READING;
  else f->flags &= ~FL_READING;
  sync_interest(s, fd, f);
  return NULL;
}

/* write(fd, bytes) -> bytes buffered (sent after this batch), or -1 when writes are dead */
static napi_value js_write(napi_env env, napi_callback_info info) {
  ARGS(2);
  take_queue(s);
  int32_t fd;
  arg_int(env, argv[0], &fd);
  fd_state *f = known(s, fd);
  if (!f || f->mode != MODE_STREAM || (f->flags & FL_OUT_DEAD)) return make_int(env, -1);
  void *data = NULL;
  size_t len = 0;
  bool is_typed;
  napi_is_typedarray(env, argv[1], &is_typed);
  if (is_typed) {
    napi_typedarray_type type;
    size_t length, offset;
    napi_value ab;
    napi_get_typedarray_info(env, argv[1], &type, &length, &data, &ab, &offset);
    len = length;
  } else {
    napi_get_buffer_info(env, argv[1], &data, &len);
  }
  size_t used = (size_t)s->ctl[CTL_STAGED];
  int contiguous = f->staged_len == 0 || f->staged_off + f->staged_len == used;
  if (f->out_len == f->out_off && contiguous && used + len <= s->staging_cap) {
    if (f->staged_len == 0) f->staged_off = (uint32_t)used;
    memcpy(s->staging + used, data, len);
    s->ctl[CTL_STAGED] = (int32_t)(used + len);
    f->staged_len += (uint32_t)len;
  } else {
    /* Keep the order: staged bytes go to the backlog before these. */
    int rc = 0;
    if (f->staged_len > 0) {
      rc = append_out(f, s->staging + f->staged_off, f->staged_len);
      f->staged_len = 0;
    }
    if (rc == 0) rc = append_out(f, data, len);
    if (rc != 0) {
      napi_throw_error(env, "ENOMEM", "@loop/selector: out of memory for a write buffer");
      return NULL;
    }
  }
  mark_dirty(s, fd, f);
  return make_int(env, (int64_t)pending_bytes(f));
}

/* buffered(fd) -> bytes not yet sent */
static napi_value js_buffered(napi_env env, napi_callback_info info) {
  ARGS(1);
  take_queue(s);
  int32_t fd;
  arg_int(env, argv[0], &fd);
  fd_state *f = known(s, fd);
  return make_int(env, f ? (int64_t)pending_bytes(f) : 0);
}

/* notify(fd, low): emit REC_DRAINED once the buffer is at or below low */
static napi_value js_notify(napi_env env, napi_callback_info info) {
  ARGS(2);
  take_queue(s);
  int32_t fd, low;
  arg_int(env, argv[0], &fd);
  arg_int(env, argv[1], &low);
  fd_state *f = known(s, fd);
  if (!f) return NULL;
  f->low = (size_t)low;
  f->flags |= FL_NOTIFY;
  if (pending_bytes(f) <= f->low) {
    f->flags &= ~FL_NOTIFY;
    emit(s, fd, REC_DRAINED, (int)pending_bytes(f), 0);
    if (!s->in_batch) ensure_check(s), s->wake_pending = 1;
  }
  return NULL;
}

/* shutdown(fd): half-close once the buffered bytes are out */
static napi_value js_shutdown(napi_env env, napi_callback_info info) {
  ARGS(1);
  take_queue(s);
  int32_t fd;
  arg_int(env, argv[0], &fd);
  fd_state *f = known(s, fd);
  if (!f || (f->flags & FL_SHUT)) return NULL;
  if (pending_bytes(f) == 0) {
    f->flags |= FL_SHUT;
    shutdown(fd, SHUT_WR);
  } else {
    f->flags |= FL_EOF_PENDING;
  }
  return NULL;
}

/* close(fd, reset): leaves the backend, then closes; reset sends RST (SO_LINGER 0).
 * Only descriptors this module opened are closed; watched ones are just forgotten. */
static napi_value js_close(napi_env env, napi_callback_info info) {
  ARGS(2);
  take_queue(s);
  int32_t fd;
  bool reset = false;
  arg_int(env, argv[0], &fd);
  if (argc > 1) napi_get_value_bool(env, argv[1], &reset);
  fd_state *f = known(s, fd);
  if (!f) return make_int(env, -EBADF);
  forget_fd(s, fd, f);
  int mode = f->mode;
  release_out(f);
  f->mode = MODE_NONE;
  f->flags = 0;
  s->nopen--;
  update_refs(s);
  if (mode == MODE_WATCH) return make_int(env, 0);
  if (reset) {
    struct linger l = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  }
  return make_int(env, close(fd) == 0 ? 0 : -errno);
}

/* adoptPipe(fd): a non-blocking pipe end (a child's stdio) as a stream; it is ours to close */
static napi_value js_adopt_pipe(napi_env env, napi_callback_info info) {
  ARGS(1);
  take_queue(s);
  int32_t fd;
  arg_int(env, argv[0], &fd);
  return make_int(env, adopt(s, fd, MODE_STREAM, FL_PIPE));
}

/* release(fd): forget a socket without closing it (handed over to Node's driver) */
static napi_value js_release(napi_env env, napi_callback_info info) {
  ARGS(1);
  take_queue(s);
  int32_t fd;
  arg_int(env, argv[0], &fd);
  fd_state *f = known(s, fd);
  if (!f) return NULL;
  forget_fd(s, fd, f);
  release_out(f);
  memset(f, 0, sizeof *f);
  s->nopen--;
  update_refs(s);
  return NULL;
}

static napi_value address_of(napi_env env, int fd, int peer) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  int r = peer ? getpeername(fd, (struct sockaddr *)&ss, &len) : getsockname(fd, (struct sockaddr *)&ss, &len);
  napi_value out;
  if (r != 0) {
    napi_get_null(env, &out);
    return out;
  }
  char buf[INET6_ADDRSTRLEN + 1] = {0};
  napi_value arr, v;
  napi_create_array_with_length(env, 3, &arr);
  if (ss.ss_family == AF_INET) {
    struct sockaddr_in *a = (struct sockaddr_in *)&ss;
    inet_ntop(AF_INET, &a->sin_addr, buf, sizeof buf);
    napi_create_string_utf8(env, buf, NAPI_AUTO_LENGTH, &v);
    napi_set_element(env, arr, 0, v);
    napi_set_element(env, arr, 1, make_int(env, ntohs(a->sin_port)));
    napi_set_element(env, arr, 2, make_int(env, 4));
  } else if (ss.ss_family == AF_INET6) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
    inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof buf);
    napi_create_string_utf8(env, buf, NAPI_AUTO_LENGTH, &v);
    napi_set_element(env, arr, 0, v);
    napi_set_element(env, arr, 1, make_int(env, ntohs(a->sin6_port)));
    napi_set_element(env, arr, 2, make_int(env, 6));
  } else {
    struct sockaddr_un *a = (struct sockaddr_un *)&ss;
    size_t n = len > offsetof(struct sockaddr_un, sun_path) ? strnlen(a->sun_path, len - offsetof(struct sockaddr_un, sun_path)) : 0;
    napi_create_string_utf8(env, a->sun_path, n, &v);
    napi_set_element(env, arr, 0, v);
    napi_set_element(env, arr, 1, make_int(env, 0));
    napi_set_element(env, arr, 2, make_int(env, 0));
  }
  return arr;
}

static napi_value js_sockname(napi_env env, napi_callback_info info) {
  ARGS(1);
  int32_t fd;
  arg_int(env, argv[0], &fd);
  return address_of(env, fd, 0);
}

static napi_value js_peername(napi_env env, napi_callback_info info) {
  ARGS(1);
  int32_t fd;
  arg_int(env, argv[0], &fd);
  return address_of(env, fd, 1);
}

/* stats() -> [descriptors open, poll handle ref'd, timer armed, idle active, set rebuilds] (for tests) */
static napi_value js_stats(napi_env env, napi_callback_info info) {
  ARGS(0);
  napi_value arr;
  napi_create_array_with_length(env, 5, &arr);
  napi_set_element(env, arr, 0, make_int(env, (int64_t)s->nopen));
  napi_set_element(env, arr, 4, make_int(env, s->rebuilds));
  napi_set_element(env, arr, 1, make_int(env, s->initialised ? uv_has_ref(s->alive) : 0));
  napi_set_element(env, arr, 2, make_int(env, s->initialised ? uv_is_active((uv_handle_t *)&s->timer) : 0));
  napi_set_element(env, arr, 3, make_int(env, s->initialised ? uv_is_active((uv_handle_t *)&s->idle) : 0));
  return arr;
}
#endif /* HAVE_SELECTOR */

static napi_value Init(napi_env env, napi_value exports) {
  state_t *s = calloc(1, sizeof(state_t));
  if (!s) return NULL;
  s->env = env;
  s->epfd = -1;
  napi_set_instance_data(env, s, NULL, NULL);
  napi_add_async_cleanup_hook(env, on_env_cleanup, s, &s->cleanup);
  napi_property_descriptor props[] = {
      {"init", NULL, js_init, NULL, NULL, NULL, napi_default, NULL},
#if HAVE_SELECTOR
      {"arm", NULL, js_arm, NULL, NULL, NULL, napi_default, NULL},
      {"wake", NULL, js_wake, NULL, NULL, NULL, napi_default, NULL},
      {"flushSoon", NULL, js_flush_soon, NULL, NULL, NULL, napi_default, NULL},
      {"slab", NULL, js_slab, NULL, NULL, NULL, napi_default, NULL},
      {"listen", NULL, js_listen, NULL, NULL, NULL, napi_default, NULL},
      {"connect", NULL, js_connect, NULL, NULL, NULL, napi_default, NULL},
      {"watch", NULL, js_watch, NULL, NULL, NULL, napi_default, NULL},
      {"reading", NULL, js_reading, NULL, NULL, NULL, napi_default, NULL},
      {"write", NULL, js_write, NULL, NULL, NULL, napi_default, NULL},
      {"buffered", NULL, js_buffered, NULL, NULL, NULL, napi_default, NULL},
      {"notify", NULL, js_notify, NULL, NULL, NULL, napi_default, NULL},
      {"shutdown", NULL, js_shutdown, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL},
      {"release", NULL, js_release, NULL, NULL, NULL, napi_default, NULL},
      {"sockname", NULL, js_sockname, NULL, NULL, NULL, napi_default, NULL},
      {"peername", NULL, js_peername, NULL, NULL, NULL, napi_default, NULL},
      {"stats", NULL, js_stats, NULL, NULL, NULL, napi_default, NULL},
      {"adoptPipe", NULL, js_adopt_pipe, NULL, NULL, NULL, napi_default, NULL},
#endif
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  spawn_define(env, exports);
  /* The interface version src/native.ts expects: a binary from another version of the
   * package (a stale prebuild) is refused there instead of misbehaving. */
  napi_value abi;
  napi_create_uint32(env, SELECTOR_ABI, &abi);
  napi_set_named_property(env, exports, "abi", abi);
  /* The readiness backends compiled in, the platform's default first. */
  napi_value names;
#if HAVE_SELECTOR
  napi_create_array_with_length(env, NBACKENDS, &names);
  for (size_t i = 0; i < NBACKENDS; i++) {
    napi_value name;
    napi_create_string_utf8(env, backends[i]->name, NAPI_AUTO_LENGTH, &name);
    napi_set_element(env, names, (uint32_t)i, name);
  }
#else
  napi_create_array_with_length(env, 0, &names);
#endif
  napi_set_named_property(env, exports, "backends", names);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
