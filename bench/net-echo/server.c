/*
 * The C epoll echo server of the net-echo benchmark (compiled by the suite with
 * `cc -O2`): the floor for server CPU per request. Level-triggered epoll, non-blocking
 * sockets, one read and one write per readiness. It prints its port and answers the
 * commands of server.ts on stdin (start, report, mem).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

static double mark_user, mark_sys;

static void usage(double *user, double *sys) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  *user = ru.ru_utime.tv_sec * 1e6 + ru.ru_utime.tv_usec;
  *sys = ru.ru_stime.tv_sec * 1e6 + ru.ru_stime.tv_usec;
}

int main(void) {
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {0};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(lfd, 511) != 0) return 1;
  getsockname(lfd, (struct sockaddr *)&addr, &len);
  printf("%d\n", ntohs(addr.sin_port));
  fflush(stdout);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd};
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
  ev.data.fd = 0;
  epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev);
  static char buf[65536];
  char line[256];
  size_t linelen = 0;
  struct epoll_event evs[256];
  for (;;) {
    int k = epoll_wait(ep, evs, 256, -1);
    for (int j = 0; j < k; j++) {
      int fd = evs[j].data.fd;
      if (fd == lfd) {
        int c;
        while ((c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
          setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          struct epoll_event cev = {.events = EPOLLIN, .data.fd = c};
          epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
        }
      } else if (fd == 0) {
        ssize_t r = read(0, line + linelen, sizeof line - linelen - 1);
        if (r <= 0) return 0;
        linelen += (size_t)r;
        char *nl;
        while ((nl = memchr(line, '\n', linelen)) != NULL) {
          *nl = 0;
          double user, sys;
          usage(&user, &sys);
          if (strcmp(line, "start") == 0) {
            mark_user = user;
            mark_sys = sys;
            printf("ok\n");
          } else if (strcmp(line, "report") == 0) {
            printf("{\"cpuUs\": %.0f, \"userUs\": %.0f}\n", user - mark_user + sys - mark_sys, user - mark_user);
          } else if (strcmp(line, "mem") == 0) {
            long pages = 0, rss = 0;
            FILE *f = fopen("/proc/self/statm", "r");
            if (f && fscanf(f, "%ld %ld", &pages, &rss) != 2) rss = 0;
            if (f) fclose(f);
            printf("{\"rss\": %ld, \"heapUsed\": 0, \"external\": 0}\n", rss * sysconf(_SC_PAGESIZE));
          }
          fflush(stdout);
          size_t used = (size_t)(nl - line) + 1;
          memmove(line, nl + 1, linelen - used);
          linelen -= used;
        }
      } else {
        ssize_t r = read(fd, buf, sizeof buf);
        if (r <= 0) {
          if (r < 0 && errno == EAGAIN) continue;
          epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
          close(fd);
          continue;
        }
        ssize_t off = 0;
        while (off < r) {
          ssize_t w = write(fd, buf + off, (size_t)(r - off));
          if (w <= 0) break; /* a full socket buffer: never with one message in flight */
          off += w;
        }
      }
    }
  }
}
