/*
 * Child processes for @loop/selector (the poller's `processes` driver): started with
 * posix_spawn, watched with a pidfd in the selector's epoll set, reaped with
 * waitid(P_PIDFD).
 *
 * Why not Node's child_process: libuv forks the whole Node process (page tables of a
 * large heap) and child_process adds a lot of JavaScript per child. glibc's posix_spawn
 * (2.24 and later) uses clone(CLONE_VM | CLONE_VFORK): the child borrows the parent's
 * memory until it execs, and an exec failure (ENOENT, EACCES) comes back as the return
 * value, so a missing program fails at the call. CPython's subprocess does the same
 * with vfork (_posixsubprocess).
 *
 * Every descriptor made here is close-on-exec; the child only gets its stdio through
 * dup2 file actions. The child's signal dispositions are reset to the default (Node
 * ignores SIGPIPE; an ignored signal would stay ignored across exec) and its mask is
 * emptied, as libuv does for Node's children.
 *
 * Reaping: the pidfd becomes readable once the child has exited; waitid(P_PIDFD, ...,
 * WNOHANG) then reaps exactly that child. libuv's SIGCHLD handler only calls waitpid()
 * for the pids of its own process handles, so it never takes ours.
 *
 * Where something is missing (not Linux, a C library without addchdir_np, a kernel
 * before 5.4 without pidfd_open or waitid(P_PIDFD)), spawnSupport() says why and the
 * TypeScript side offers no `processes`: @loop/process then uses node:child_process.
 */
#define _GNU_SOURCE
#include "spawn.h"

#include <stdlib.h>
#include <string.h>

#ifdef __linux__
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <gnu/libc-version.h>
#endif

#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#ifndef POSIX_SPAWN_SETSID
#define POSIX_SPAWN_SETSID 0x80
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

extern char **environ;

/* What each of the child's standard streams gets (an fd >= 0: that descriptor). */
enum { STDIO_INHERIT = -1, STDIO_PIPE = -2, STDIO_DEVNULL = -3, STDIO_STDOUT = -4 };

/* reap() returns this plus the errno when waitid fails (ECHILD: someone else reaped it). */
#define REAP_FAILED 1000

/* Looked up at run time, not linked: a binary built on a newer C library must still load
 * (and fall back to Node's child_process) where the function is missing. */
typedef int (*addchdir_fn)(posix_spawn_file_actions_t *, const char *);
static addchdir_fn addchdir;
static const char *unsupported = "not probed";
static pthread_once_t probe_once = PTHREAD_ONCE_INIT;

static void probe(void) {
#ifdef __GLIBC__
  /* posix_spawn reports exec errors since 2.24; addchdir_np arrived in 2.29. */
  int major = 0, minor = 0;
  if (sscanf(gnu_get_libc_version(), "%d.%d", &major, &minor) != 2 || major < 2 || (major == 2 && minor < 29)) {
    unsupported = "glibc 2.29 or later is needed (posix_spawn_file_actions_addchdir_np)";
    return;
  }
#endif
  addchdir = (addchdir_fn)dlsym(RTLD_DEFAULT, "posix_spawn_file_actions_addchdir_np");
  if (!addchdir) {
    unsupported = "the C library has no posix_spawn_file_actions_addchdir_np";
    return;
  }
  int fd = (int)syscall(SYS_pidfd_open, getpid(), 0);
  if (fd < 0) {
    unsupported = errno == ENOSYS ? "the kernel has no pidfd_open (Linux 5.3 or later is needed)" : "pidfd_open failed";
    return;
  }
  /* Our own pid is not our child: ECHILD means waitid knows P_PIDFD (Linux 5.4), EINVAL
   * that it does not. */
  siginfo_t info;
  memset(&info, 0, sizeof info);
  int rc = waitid((idtype_t)P_PIDFD, (id_t)fd, &info, WEXITED | WNOHANG);
  int e = errno;
  close(fd);
  if (rc == 0 || e != ECHILD) {
    unsupported = "the kernel has no waitid(P_PIDFD) (Linux 5.4 or later is needed)";
    return;
  }
  unsupported = NULL;
}

/* ---- arguments from JavaScript ----------------------------------------------------- */

static char *get_string(napi_env env, napi_value v) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) return NULL;
  char *out = malloc(len + 1);
  if (!out) return NULL;
  napi_get_value_string_utf8(env, v, out, len + 1, &len);
  /* exec takes C strings: one with a NUL inside would be cut short without a word. */
  if (strlen(out) != len) {
    free(out);
    return NULL;
  }
  return out;
}

static void free_strings(char **list) {
  if (!list) return;
  for (char **p = list; *p; p++) free(*p);
  free(list);
}

/* A NULL-terminated copy of a JS array of strings; NULL when it is not one. */
static char **get_strings(napi_env env, napi_value array) {
  uint32_t n = 0;
  if (napi_get_array_length(env, array, &n) != napi_ok) return NULL;
  char **out = calloc((size_t)n + 1, sizeof(char *));
  if (!out) return NULL;
  for (uint32_t i = 0; i < n; i++) {
    napi_value item;
    if (napi_get_element(env, array, i, &item) != napi_ok || !(out[i] = get_string(env, item))) {
      free_strings(out);
      return NULL;
    }
  }
  return out;
}

/* ---- finding the program ----------------------------------------------------------- */

/* execvp's search, done before spawning so that a miss costs no clone: the first entry of
 * PATH (the child's environment's, when given) holding an executable regular file. 0 and
 * a malloc'd path in *found, else ENOENT, or EACCES when something by that name exists but
 * cannot be run. Relative entries are relative to the child's working directory. */
static int find_program(const char *file, char **envp, const char *cwd, char **found) {
  const char *path = NULL;
  if (envp) {
    for (char **e = envp; *e; e++)
      if (strncmp(*e, "PATH=", 5) == 0) {
        path = *e + 5;
        break;
      }
  } else {
    path = getenv("PATH");
  }
  if (!path) path = "/usr/local/bin:/usr/bin:/bin";
  size_t flen = strlen(file), clen = cwd ? strlen(cwd) : 0;
  int result = ENOENT;
  for (const char *p = path;; p++) {
    const char *end = strchr(p, ':');
    size_t dlen = end ? (size_t)(end - p) : strlen(p);
    const char *dir = dlen ? p : ".";
    if (!dlen) dlen = 1;
    int relative = dir[0] != '/' && cwd;
    char *candidate = malloc(clen + dlen + flen + 3);
    if (!candidate) return ENOMEM;
    size_t at = 0;
    if (relative) {
      memcpy(candidate, cwd, clen);
      at = clen;
      candidate[at++] = '/';
    }
    memcpy(candidate + at, dir, dlen);
    at += dlen;
    candidate[at++] = '/';
    memcpy(candidate + at, file, flen + 1);
    struct stat st;
    if (stat(candidate, &st) == 0) {
      if (S_ISREG(st.st_mode) && faccessat(AT_FDCWD, candidate, X_OK, AT_EACCESS) == 0) {
        *found = candidate;
        return 0;
      }
      result = EACCES;
    } else if (errno == EACCES) {
      result = EACCES;
    }
    free(candidate);
    if (!end) break;
    p = end;
  }
  return result;
}

/* ---- spawning ---------------------------------------------------------------------- */

static void close_if(int fd) {
  if (fd >= 0) close(fd);
}

/* A descriptor of ours above the standard three, close-on-exec, so that no dup2 of the
 * child's stdio can overwrite it before it is used. */
static int above_stdio(int fd) {
  if (fd < 0 || fd > 2) return fd;
  int moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  int e = errno;
  close(fd);
  errno = e;
  return moved;
}

/* sigaddset without the C library's refusal of its internal signals. Both glibc's and
 * musl's sigset_t are arrays of unsigned long, signal n at bit n - 1. */
static void add_signal_bit(sigset_t *set, int sig) {
  unsigned long *words = (unsigned long *)(void *)set;
  const size_t bits = 8 * sizeof(unsigned long);
  words[(size_t)(sig - 1) / bits] |= 1UL << ((size_t)(sig - 1) % bits);
}

/* Starts the child. 0, with out = [pid, pidfd, stdin, stdout, stderr] (the parent's pipe
 * ends, non-blocking; -1 where there is no pipe), or an errno. */
static int do_spawn(const char *file, char **argv, char **envp, const char *cwd, const int32_t stdio[3], int new_session, int32_t out[5]) {
  int parent[3] = {-1, -1, -1}, child[3] = {-1, -1, -1}, borrowed[3] = {-1, -1, -1};
  char *found = NULL;
  int rc = 0;
  if (!strchr(file, '/')) {
    rc = find_program(file, envp, cwd, &found);
    if (rc != 0) return rc;
  }
  for (int i = 0; i < 3; i++) {
    if (stdio[i] == STDIO_PIPE) {
      int p[2];
      if (pipe2(p, O_CLOEXEC) != 0) {
        rc = errno;
        goto fail;
      }
      /* stdin: the child reads p[0]; stdout/stderr: the child writes p[1]. */
      parent[i] = i == 0 ? p[1] : p[0];
      child[i] = above_stdio(i == 0 ? p[0] : p[1]);
      if (child[i] < 0 || fcntl(parent[i], F_SETFL, fcntl(parent[i], F_GETFL) | O_NONBLOCK) != 0) {
        rc = errno;
        goto fail;
      }
    } else if (stdio[i] >= 0 && stdio[i] < i && stdio[stdio[i]] != STDIO_INHERIT) {
      /* One of the parent's standard descriptors that an earlier file action replaces in
       * the child: give the child a copy taken before that. */
      borrowed[i] = fcntl(stdio[i], F_DUPFD_CLOEXEC, 3);
      if (borrowed[i] < 0) {
        rc = errno;
        goto fail;
      }
    } else if (stdio[i] == STDIO_INHERIT || stdio[i] == i) {
      /* The parent's own descriptor i, which may be close-on-exec (a test runner's worker
       * has its stdio so): the child must get it all the same, as libuv makes sure for
       * Node's children. dup2 onto another number clears the flag, where dup2(i, i) only
       * does with recent C libraries: the copy goes through a spare number. */
      int flags = fcntl(i, F_GETFD);
      if (flags >= 0 && (flags & FD_CLOEXEC)) {
        borrowed[i] = fcntl(i, F_DUPFD_CLOEXEC, 3);
        if (borrowed[i] < 0) {
          rc = errno;
          goto fail;
        }
      }
    }
  }

  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attr);
  for (int i = 0; i < 3 && rc == 0; i++) {
    switch (stdio[i]) {
      case STDIO_INHERIT:
        if (borrowed[i] >= 0) rc = posix_spawn_file_actions_adddup2(&actions, borrowed[i], i);
        break;
      case STDIO_PIPE: rc = posix_spawn_file_actions_adddup2(&actions, child[i], i); break;
      case STDIO_DEVNULL: rc = posix_spawn_file_actions_addopen(&actions, i, "/dev/null", i == 0 ? O_RDONLY : O_WRONLY, 0); break;
      case STDIO_STDOUT: rc = posix_spawn_file_actions_adddup2(&actions, 1, i); break;
      default: rc = posix_spawn_file_actions_adddup2(&actions, borrowed[i] >= 0 ? borrowed[i] : stdio[i], i); break;
    }
  }
  if (rc == 0 && cwd) rc = addchdir(&actions, cwd);
  sigset_t defaults, mask;
  sigemptyset(&defaults);
  sigemptyset(&mask);
  /* The classic signals, as libuv resets them for Node's children (SIGKILL and SIGSTOP
   * cannot be changed). And 32 and 33: glibc's posix_spawn sets its two internal signals
   * to SIG_IGN in the child unless they are in this set, and an ignored signal stays
   * ignored across exec; sigaddset refuses them, so their bits are set directly. */
  for (int sig = 1; sig < 32; sig++)
    if (sig != SIGKILL && sig != SIGSTOP) sigaddset(&defaults, sig);
  add_signal_bit(&defaults, 32);
  add_signal_bit(&defaults, 33);
  short flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | (new_session ? POSIX_SPAWN_SETSID : 0);
  if (rc == 0) rc = posix_spawnattr_setsigdefault(&attr, &defaults);
  if (rc == 0) rc = posix_spawnattr_setsigmask(&attr, &mask);
  if (rc == 0) rc = posix_spawnattr_setflags(&attr, flags);
  pid_t pid = -1;
  if (rc == 0) rc = posix_spawn(&pid, found ? found : file, &actions, &attr, argv, envp ? envp : environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) goto fail;

  int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (pidfd < 0) {
    /* Out of descriptors, most likely: a child we cannot watch must not run on. */
    rc = errno;
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
    }
    goto fail;
  }
  for (int i = 0; i < 3; i++) {
    close_if(child[i]);
    close_if(borrowed[i]);
  }
  free(found);
  out[0] = pid;
  out[1] = pidfd;
  out[2] = parent[0];
  out[3] = parent[1];
  out[4] = parent[2];
  return 0;

fail:
  for (int i = 0; i < 3; i++) {
    close_if(parent[i]);
    close_if(child[i]);
    close_if(borrowed[i]);
  }
  free(found);
  return rc;
}

/* ---- exported functions ------------------------------------------------------------ */

static napi_value make_int(napi_env env, int64_t v) {
  napi_value out;
  napi_create_int64(env, v, &out);
  return out;
}

/* spawnSupport() -> "" when this process can spawn here, else why not */
static napi_value js_spawn_support(napi_env env, napi_callback_info info) {
  (void)info;
  pthread_once(&probe_once, probe);
  napi_value out;
  napi_create_string_utf8(env, unsupported ? unsupported : "", NAPI_AUTO_LENGTH, &out);
  return out;
}

static int32_t *int32_array(napi_env env, napi_value v, size_t need) {
  napi_typedarray_type type;
  size_t length = 0;
  void *data = NULL;
  if (napi_get_typedarray_info(env, v, &type, &length, &data, NULL, NULL) != napi_ok || type != napi_int32_array || length < need) return NULL;
  return (int32_t *)data;
}

/* spawn(file, argv, envp | null, cwd | null, stdio: Int32Array(3), newSession, out: Int32Array(5))
 * -> 0 (out filled) or -errno */
static napi_value js_spawn(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  pthread_once(&probe_once, probe);
  if (unsupported) return make_int(env, -ENOSYS);
  int32_t *stdio = int32_array(env, argv[4], 3);
  int32_t *out = int32_array(env, argv[6], 5);
  napi_valuetype t2, t3;
  napi_typeof(env, argv[2], &t2);
  napi_typeof(env, argv[3], &t3);
  bool session = false;
  napi_get_value_bool(env, argv[5], &session);
  char *file = get_string(env, argv[0]);
  char **args = get_strings(env, argv[1]);
  char **envp = t2 == napi_null ? NULL : get_strings(env, argv[2]);
  char *cwd = t3 == napi_null ? NULL : get_string(env, argv[3]);
  int rc;
  if (!stdio || !out || !file || !args || (t2 != napi_null && !envp) || (t3 != napi_null && !cwd)) rc = EINVAL;
  else rc = do_spawn(file, args, envp, cwd, stdio, session, out);
  free(file);
  free_strings(args);
  free_strings(envp);
  free(cwd);
  return make_int(env, rc == 0 ? 0 : -rc);
}

/* reap(pidfd, block?) -> null while the child runs; its exit status; minus the signal that
 * ended it; or REAP_FAILED + errno. `block` waits for the exit (only for a child just
 * killed, which cannot be watched). */
static napi_value js_reap(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t pidfd = -1;
  napi_get_value_int32(env, argv[0], &pidfd);
  bool block = false;
  if (argc > 1) napi_get_value_bool(env, argv[1], &block);
  siginfo_t si;
  memset(&si, 0, sizeof si);
  int rc;
  do rc = waitid((idtype_t)P_PIDFD, (id_t)pidfd, &si, WEXITED | (block ? 0 : WNOHANG));
  while (rc < 0 && errno == EINTR);
  if (rc < 0) return make_int(env, REAP_FAILED + errno);
  if (si.si_pid == 0) {
    napi_value none;
    napi_get_null(env, &none);
    return none;
  }
  return make_int(env, si.si_code == CLD_EXITED ? si.si_status : -si.si_status);
}

/* closeFd(fd): for pidfds, which the selector only watches and never closes */
static napi_value js_close_fd(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd = -1;
  napi_get_value_int32(env, argv[0], &fd);
  return make_int(env, fd >= 0 && close(fd) == 0 ? 0 : -errno);
}

void spawn_define(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"spawnSupport", NULL, js_spawn_support, NULL, NULL, NULL, napi_default, NULL},
      {"spawn", NULL, js_spawn, NULL, NULL, NULL, napi_default, NULL},
      {"reap", NULL, js_reap, NULL, NULL, NULL, napi_default, NULL},
      {"closeFd", NULL, js_close_fd, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}

#else /* not Linux */

static napi_value js_spawn_support(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  napi_create_string_utf8(env, "native child processes need Linux (pidfd_open, waitid(P_PIDFD))", NAPI_AUTO_LENGTH, &out);
  return out;
}

void spawn_define(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"spawnSupport", NULL, js_spawn_support, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}

#endif
