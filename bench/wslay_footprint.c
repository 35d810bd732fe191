/* wslay_footprint: the heap one connection's wslay context costs, measured to
 * decide between Debian's libwslay (1.1.1) and a hand-written frame parser for
 * src/ws/ (the decision and the figures are in docs/websocket.md).
 *
 * Not part of the build (it needs libwslay-dev, which the project does not use):
 *   apt-get install libwslay-dev
 *   gcc -O2 bench/wslay_footprint.c -o /tmp/wslay_footprint -lwslay && /tmp/wslay_footprint
 *
 * It makes 10,000 server event contexts and 10,000 frame contexts and prints the
 * live heap (mallinfo2) each added, divided by the count. */
#include <wslay/wslay.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>
static ssize_t rcb(wslay_event_context_ptr c, uint8_t *b, size_t l, int f, void *u){(void)c;(void)b;(void)l;(void)f;(void)u; wslay_event_set_error(c, WSLAY_ERR_WOULDBLOCK); return -1;}
static ssize_t scb(wslay_event_context_ptr c, const uint8_t *b, size_t l, int f, void *u){(void)c;(void)b;(void)f;(void)u; return (ssize_t)l;}
static ssize_t frs(const uint8_t *d, size_t l, int f, void *u){(void)d;(void)f;(void)u;return (ssize_t)l;}
static ssize_t frr(uint8_t *b, size_t l, int f, void *u){(void)b;(void)l;(void)f;(void)u;return -1;}
static int fgm(uint8_t *b, size_t l, void *u){(void)u; memset(b,0,l); return 0;}
#define N 10000
int main(void){
  static wslay_event_context_ptr ev[N]; static wslay_frame_context_ptr fr[N];
  struct wslay_event_callbacks cb = {rcb, scb, NULL, NULL, NULL, NULL, NULL};
  struct wslay_frame_callbacks fcb = {frs, frr, fgm};
  struct mallinfo2 a = mallinfo2();
  for (int i=0;i<N;i++) wslay_event_context_server_init(&ev[i], &cb, NULL);
  struct mallinfo2 b = mallinfo2();
  for (int i=0;i<N;i++) wslay_frame_context_init(&fr[i], &fcb, NULL);
  struct mallinfo2 c = mallinfo2();
  printf("wslay_event_context (server): %.1f bytes of heap each\n", (double)(b.uordblks-a.uordblks)/N);
  printf("wslay_frame_context: %.1f bytes of heap each\n", (double)(c.uordblks-b.uordblks)/N);
  return 0;
}
