/*
 * ws_client.c — a minimal websocket client for the benchmark: connects to
 * ws://HOST:PORT/PATH, completes the handshake, prints "connected" on
 * stdout, then reads and discards the stream as fast as it comes (the
 * "tracefs + 1 ws client" configuration). On SIGTERM or when the server
 * closes, prints the bytes received on stderr.
 *
 * usage: ws_client ws://127.0.0.1:7681/events
 */
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static int die(const char *what)
{
	fprintf(stderr, "ws_client: %s: %s\n", what, strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	char host[256], port[16], path[256] = "/";
	if (argc != 2 || sscanf(argv[1], "ws://%255[^:/]:%15[0-9]%255s", host, port, path) < 2) {
		fprintf(stderr, "usage: ws_client ws://HOST:PORT/PATH\n");
		return 2;
	}
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *addr;
	int rc = getaddrinfo(host, port, &hints, &addr);
	if (rc != 0) {
		fprintf(stderr, "ws_client: %s: %s\n", host, gai_strerror(rc));
		return 1;
	}
	int fd = socket(addr->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1 || connect(fd, addr->ai_addr, addr->ai_addrlen) != 0)
		return die("connect");
	freeaddrinfo(addr);
	char request[1024];
	int n = snprintf(request, sizeof(request),
			 "GET %s HTTP/1.1\r\nHost: %s:%s\r\nUpgrade: websocket\r\n"
			 "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
			 "Sec-WebSocket-Version: 13\r\n\r\n",
			 path, host, port);
	if (write(fd, request, (size_t)n) != n)
		return die("write");
	/* The response headers, byte by byte: what follows is the stream. */
	char headers[4096];
	size_t got = 0;
	while (got < 4 || memcmp(headers + got - 4, "\r\n\r\n", 4) != 0) {
		if (got == sizeof(headers) || read(fd, headers + got, 1) != 1)
			return die("handshake");
		got++;
	}
	if (strncmp(headers, "HTTP/1.1 101", 12) != 0) {
		fprintf(stderr, "ws_client: refused: %.*s\n", (int)got, headers);
		return 1;
	}
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	printf("connected\n");
	fflush(stdout);
	unsigned long long bytes = 0;
	char buf[65536];
	while (!stop) {
		ssize_t r = read(fd, buf, sizeof(buf));
		if (r > 0)
			bytes += (unsigned long long)r;
		else if (r == 0 || errno != EINTR)
			break;
	}
	fprintf(stderr, "ws_client: received %llu bytes\n", bytes);
	close(fd);
	return 0;
}
