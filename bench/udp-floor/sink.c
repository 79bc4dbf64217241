/* Drains what the relays send, so their datagrams meet a reader as a peer's would. */
#include <stdio.h>
#include <netinet/in.h>
#include <sys/socket.h>

int main(void) {
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  socklen_t len = sizeof a;
  bind(s, (struct sockaddr *)&a, sizeof a);
  getsockname(s, (struct sockaddr *)&a, &len);
  printf("%d\n", ntohs(a.sin_port));
  fflush(stdout);
  static char buf[65536];
  for (;;) recv(s, buf, sizeof buf, 0);
}
