/*
 * The C load generator of the net-echo benchmark (compiled by the suite with `cc -O2`):
 * `load <port> <connections> <bytes> <seconds>` keeps each connection sending one message
 * and waiting for its whole echo, and prints {"requests": N}. One thread, epoll: it costs
 * far less CPU than the servers it loads, so the server's share of the machine is stable.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: load <port> <connections> <bytes> <seconds>\n");
    return 2;
  }
  int port = atoi(argv[1]), n = atoi(argv[2]), size = atoi(argv[3]);
  double seconds = atof(argv[4]);
  char *message = malloc(size), *buf = malloc(65536);
  memset(message, 'x', size);
  int *pending = calloc(n, sizeof(int));
  int *fds = calloc(n, sizeof(int));
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct sockaddr_in addr = {0};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (int i = 0; i < n; i++) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
      perror("connect");
      return 1;
    }
    fds[i] = fd;
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    pending[i] = size;
    if (write(fd, message, size) != size) return 1;
  }
  long requests = 0;
  double end = now() + seconds;
  struct epoll_event evs[256];
  while (now() < end) {
    int k = epoll_wait(ep, evs, 256, 100);
    for (int j = 0; j < k; j++) {
      int i = (int)evs[j].data.u32;
      ssize_t r = read(fds[i], buf, 65536);
      if (r <= 0) {
        fprintf(stderr, "load: connection %d ended (%s)\n", i, r == 0 ? "EOF" : strerror(errno));
        return 1;
      }
      pending[i] -= (int)r;
      if (pending[i] > 0) continue;
      requests++;
      pending[i] = size;
      if (write(fds[i], message, size) != size) return 1;
    }
  }
  printf("{\"requests\": %ld}\n", requests);
  fflush(stdout);
  for (int i = 0; i < n; i++) {
    struct linger l = {1, 0};
    setsockopt(fds[i], SOL_SOCKET, SO_LINGER, &l, sizeof l);
    close(fds[i]);
  }
  return 0;
}
