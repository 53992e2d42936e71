/*
 * ws_client.c — a minimal websocket client for the benchmark: connects to
 * ws://HOST:PORT/PATH, completes the handshake, prints "connected" on
 * stdout, then reads and discards the stream as fast as it comes (the
 * "tracefs + 1 ws client" configuration). On SIGTERM or when the server
 * closes, prints the bytes received on stderr. With --until TEXT it exits
 * 0 as soon as TEXT has come in the stream (1 if the stream ends first):
 * tests use it to see that an event reached a client. With --save FILE it
 * writes every byte it receives after the handshake (frame headers and
 * all) to FILE, for a test to compare the stream with the trace. The
 * environment's WS_CLIENT_SEND, if set, is sent after the handshake, one
 * text message per line (client commands, e.g. {"cmd":"play"}).
 *
 * usage: ws_client [--until TEXT] [--save FILE] ws://127.0.0.1:7681/events?token=...
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

/* Sends TEXT's lines as masked text frames (the mask key 0: XOR changes nothing). */
static int send_lines(int fd, const char *text)
{
	while (*text) {
		size_t len = strcspn(text, "\n");
		unsigned char frame[8 + 65536];
		size_t head = 0;
		if (len > 65535)
			return -1;
		frame[head++] = 0x81;
		if (len < 126) {
			frame[head++] = (unsigned char)(0x80 | len);
		} else {
			frame[head++] = 0x80 | 126;
			frame[head++] = (unsigned char)(len >> 8);
			frame[head++] = (unsigned char)len;
		}
		memset(frame + head, 0, 4);
		head += 4;
		memcpy(frame + head, text, len);
		if (write(fd, frame, head + len) != (ssize_t)(head + len))
			return -1;
		text += len + (text[len] == '\n');
	}
	return 0;
}

int main(int argc, char **argv)
{
	char host[256], port[16], path[256] = "/";
	const char *until = NULL;
	FILE *save = NULL;
	while (argc >= 4 && argv[1][0] == '-') {
		if (strcmp(argv[1], "--until") == 0)
			until = argv[2];
		else if (strcmp(argv[1], "--save") == 0 && !save && !(save = fopen(argv[2], "w")))
			return die(argv[2]);
		else if (strcmp(argv[1], "--save") != 0)
			break;
		argv += 2;
		argc -= 2;
	}
	if (argc != 2 || sscanf(argv[1], "ws://%255[^:/]:%15[0-9]%255s", host, port, path) < 2) {
		fprintf(stderr, "usage: ws_client [--until TEXT] [--save FILE] ws://HOST:PORT/PATH\n");
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
	if (getenv("WS_CLIENT_SEND") && send_lines(fd, getenv("WS_CLIENT_SEND")) != 0)
		return die("send");
	unsigned long long bytes = 0;
	/* For --until: the stream so far, but for what cannot start a match. */
	size_t keep = until ? strlen(until) : 0;
	char *buf = malloc(65536 + keep);
	size_t held = 0;
	if (!buf)
		return die("malloc");
	while (!stop) {
		ssize_t r = read(fd, buf + held, 65536);
		if (r == 0 || (r < 0 && errno != EINTR))
			break;
		if (r < 0)
			continue;
		bytes += (unsigned long long)r;
		if (save && fwrite(buf + held, 1, (size_t)r, save) != (size_t)r)
			return die("--save");
		if (until) {
			held += (size_t)r;
			if (memmem(buf, held, until, keep))
				return 0;
			size_t tail = held < keep ? held : keep;
			memmove(buf, buf + held - tail, tail);
			held = tail;
		}
	}
	fprintf(stderr, "ws_client: received %llu bytes\n", bytes);
	if (save && fclose(save) != 0)
		return die("--save");
	free(buf);
	close(fd);
	return until ? 1 : 0;
}
