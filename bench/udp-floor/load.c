/* Offered load for the floor bench: COUNT datagrams of LENGTH bytes, round robin to ports
 * BASE..BASE+K-1 on 127.0.0.1, RATE per second in a burst every millisecond. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <netinet/in.h>
#include <sys/socket.h>

int main(int argc, char **argv) {
  if (argc != 6) return 2;
  int base = atoi(argv[1]), k = atoi(argv[2]), rate = atoi(argv[4]), length = atoi(argv[5]);
  long count = atol(argv[3]), sent = 0;
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  char *buf = calloc(1, length);
  int perMs = rate / 1000 > 0 ? rate / 1000 : 1;
  struct timespec ms = { 0, 1000000 };
  while (sent < count) {
    for (int i = 0; i < perMs && sent < count; i++, sent++) {
      to.sin_port = htons(base + sent % k);
      sendto(s, buf, length, 0, (struct sockaddr *)&to, sizeof to);
    }
    nanosleep(&ms, NULL);
  }
  return 0;
}
