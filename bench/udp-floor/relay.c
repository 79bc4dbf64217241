/* A bare UDP relay hop in C, the floor under any server: K sockets on ports BASE..BASE+K-1,
 * epoll, recvfrom until EAGAIN, one unconnected sendto per datagram to the sink. Prints its
 * own CPU per relayed datagram (from the first one on) once COUNT arrived or 2 s passed idle.
 * With a first argument `mmsg` it batches as native-hop.c does: recvmmsg until a short batch,
 * one sendmmsg per epoll_wait round, so the addon can be told apart from Node around it. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

static double micros(struct timeval t) { return t.tv_sec * 1e6 + t.tv_usec; }

int main(int argc, char **argv) {
  int batched = argc > 1 && strcmp(argv[1], "mmsg") == 0;
  argc -= batched, argv += batched;
  if (argc != 5) { fprintf(stderr, "usage: relay [mmsg] BASE K SINK_PORT COUNT\n"); return 2; }
  int base = atoi(argv[1]), k = atoi(argv[2]), sinkPort = atoi(argv[3]);
  long count = atol(argv[4]), relayed = 0;
  struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  int ep = epoll_create1(0);
  for (int i = 0; i < k; i++) {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    addr.sin_port = htons(base + i);
    if (bind(s, (struct sockaddr *)&addr, sizeof addr) != 0) { perror("bind"); return 1; }
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = s };
    epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
  }
  int out = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in sink = addr;
  sink.sin_port = htons(sinkPort);
  printf("ready\n");
  fflush(stdout);
  static char buf[65536];
  enum { SLOTS = 256, SLOT = 2048 };
  static char slots[SLOTS][SLOT];
  static struct mmsghdr msgs[SLOTS];
  static struct iovec iov[SLOTS];
  long batches = 0;
  struct rusage start, end;
  while (relayed < count) {
    struct epoll_event events[64];
    int n = epoll_wait(ep, events, 64, relayed ? 2000 : 30000);
    if (n <= 0) break;
    if (batched) {
      int pending = 0;
      for (int i = 0; i < n; i++) {
        for (;;) {
          if (pending == SLOTS) { sendmmsg(out, msgs, pending, 0); batches++; pending = 0; }
          for (int j = pending; j < SLOTS; j++) {
            iov[j] = (struct iovec){ slots[j], SLOT };
            msgs[j].msg_hdr = (struct msghdr){ .msg_iov = &iov[j], .msg_iovlen = 1 };
          }
          int r = recvmmsg(events[i].data.fd, msgs + pending, SLOTS - pending, MSG_DONTWAIT, NULL);
          if (r <= 0) break;
          if (relayed == 0) getrusage(RUSAGE_SELF, &start);
          for (int j = pending; j < pending + r; j++) {
            iov[j].iov_len = msgs[j].msg_len;
            msgs[j].msg_hdr.msg_name = &sink;
            msgs[j].msg_hdr.msg_namelen = sizeof sink;
          }
          relayed += r;
          if ((pending += r) < SLOTS) break;   /* a short batch drained it, as native-hop.c assumes */
        }
      }
      if (pending) { sendmmsg(out, msgs, pending, 0); batches++; }
      continue;
    }
    for (int i = 0; i < n; i++) {
      for (;;) {
        ssize_t r = recvfrom(events[i].data.fd, buf, sizeof buf, 0, NULL, NULL);
        if (r < 0) break;
        if (relayed == 0) getrusage(RUSAGE_SELF, &start);
        sendto(out, buf, r, 0, (struct sockaddr *)&sink, sizeof sink);
        relayed++;
      }
    }
  }
  getrusage(RUSAGE_SELF, &end);
  printf("relayed %ld user %.0f sys %.0f batches %ld\n", relayed, micros(end.ru_utime) - micros(start.ru_utime),
         micros(end.ru_stime) - micros(start.ru_stime), batches);
  return 0;
}
