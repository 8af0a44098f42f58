/*
 * tlslib: certificates by the openssl command, a TLS test client and a
 * runner for the client binary. Invariant: every wait has a deadline and
 * every child is reaped before the call returns.
 */
#include "tlslib.h"

#include "testlib.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- running programs ---------------------------------------------------- */

static void
tt_collect(int *fd, char *buf, size_t n, size_t *len)
{
	ssize_t r = read(*fd, buf + *len, n - 1 - *len);

	if (r > 0) {
		*len += (size_t)r;
		buf[*len] = '\0';
		if (*len + 1 < n)
			return;
	}
	if (r < 0 && errno == EINTR)
		return;
	close(*fd); /* EOF, error, or full */
	*fd = -1;
}

int
tt_run(char *const argv[], const char *in, char *out, char *err, size_t n,
       int timeout_ms)
{
	int pin[2], pout[2], perr[2], st;
	size_t olen = 0, elen = 0;
	long long deadline = tl_now_ms() + timeout_ms;
	pid_t parent = getpid(), pid;

	out[0] = err[0] = '\0';
	if (pipe2(pin, O_CLOEXEC) < 0 || pipe2(pout, O_CLOEXEC) < 0 ||
	    pipe2(perr, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		dup2(pin[0], 0);
		dup2(pout[1], 1);
		dup2(perr[1], 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(pin[0]);
	close(pout[1]);
	close(perr[1]);
	if (in && *in)
		(void)write(pin[1], in, strlen(in));
	close(pin[1]);
	while (pout[0] >= 0 || perr[0] >= 0) {
		struct pollfd p[2] = {{.fd = pout[0], .events = POLLIN},
				      {.fd = perr[0], .events = POLLIN}};
		long long left = deadline - tl_now_ms();
		if (left <= 0)
			break;
		if (poll(p, 2, (int)left) < 0 && errno != EINTR)
			break;
		if (p[0].revents)
			tt_collect(&pout[0], out, n, &olen);
		if (p[1].revents)
			tt_collect(&perr[0], err, n, &elen);
	}
	if (pout[0] >= 0 || perr[0] >= 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		if (pout[0] >= 0)
			close(pout[0]);
		if (perr[0] >= 0)
			close(perr[0]);
		return -1;
	}
	if (ts_wait_gone(pid, (int)(deadline - tl_now_ms()) + 1) < 0)
		kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* ---- certificates -------------------------------------------------------- */

int
tt_dir_make(char *dir, size_t n)
{
	snprintf(dir, n, "/tmp/parley-tls-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	return chmod(dir, 0755);
}

void
tt_dir_remove(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[512];

	if (!d)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

void
tt_path(const char *dir, const char *name, char *out, size_t n)
{
	snprintf(out, n, "%s/%s", dir, name);
}

int
tt_cert_make(const char *dir, const char *name, const char *cn, const char *san,
	     const char *issuer, int ca)
{
	char cert[512], key[512], subj[256], alt[256], icert[512], ikey[512];
	char out[4096], err[4096];
	char *argv[32];
	int argc = 0, rc;

	snprintf(cert, sizeof(cert), "%s/%s.pem", dir, name);
	snprintf(key, sizeof(key), "%s/%s.key", dir, name);
	snprintf(subj, sizeof(subj), "/CN=%s", cn);
	snprintf(alt, sizeof(alt), "subjectAltName=%s", san ? san : "");
	char *fixed[] = {"openssl",
			 "req",
			 "-x509",
			 "-newkey",
			 "ec",
			 "-pkeyopt",
			 "ec_paramgen_curve:P-256",
			 "-nodes",
			 "-days",
			 "2",
			 "-keyout",
			 key,
			 "-out",
			 cert,
			 "-subj",
			 subj,
			 "-addext",
			 ca ? "basicConstraints=critical,CA:TRUE"
			    : "basicConstraints=critical,CA:FALSE"};
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		argv[argc++] = fixed[i];
	if (ca) {
		argv[argc++] = "-addext";
		argv[argc++] = "keyUsage=critical,keyCertSign,cRLSign";
	}
	if (san) {
		argv[argc++] = "-addext";
		argv[argc++] = alt;
	}
	if (issuer) {
		snprintf(icert, sizeof(icert), "%s/%s.pem", dir, issuer);
		snprintf(ikey, sizeof(ikey), "%s/%s.key", dir, issuer);
		argv[argc++] = "-CA";
		argv[argc++] = icert;
		argv[argc++] = "-CAkey";
		argv[argc++] = ikey;
	}
	argv[argc] = NULL;
	rc = tt_run(argv, NULL, out, err, sizeof(out), 30000);
	if (rc != 0) {
		fprintf(stderr, "  openssl req for %s failed (%d): %s\n", name,
			rc, err);
		return -1;
	}
	/* The server may run as another user: it must read the key. */
	return chmod(key, 0644);
}

int
tt_cat(const char *path, const char *const *files)
{
	char tmp[600], buf[8192];
	int out, rc = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0)
		return -1;
	for (int i = 0; files[i] && rc == 0; i++) {
		int in = open(files[i], O_RDONLY | O_CLOEXEC);
		ssize_t r;
		if (in < 0) {
			rc = -1;
			break;
		}
		while ((r = read(in, buf, sizeof(buf))) > 0)
			if (write(out, buf, (size_t)r) != r)
				rc = -1;
		close(in);
	}
	if (close(out) < 0 || rc < 0 || rename(tmp, path) < 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

int
tt_pki_make(struct tt_pki *p)
{
	if (tt_dir_make(p->dir, sizeof(p->dir)) < 0 ||
	    tt_cert_make(p->dir, "ca", "parley test CA", NULL, NULL, 1) < 0 ||
	    tt_cert_make(p->dir, "a", "first", "DNS:localhost,IP:127.0.0.1",
			 "ca", 0) < 0 ||
	    tt_cert_make(p->dir, "b", "second", "DNS:localhost,IP:127.0.0.1",
			 "ca", 0) < 0)
		return -1;
	tt_path(p->dir, "ca.pem", p->ca_pem, sizeof(p->ca_pem));
	tt_path(p->dir, "a.pem", p->a_pem, sizeof(p->a_pem));
	tt_path(p->dir, "a.key", p->a_key, sizeof(p->a_key));
	tt_path(p->dir, "b.pem", p->b_pem, sizeof(p->b_pem));
	tt_path(p->dir, "b.key", p->b_key, sizeof(p->b_key));
	return 0;
}

int
tt_cert_install(const char *cur_pem, const char *cur_key, const char *pem,
		const char *key)
{
	const char *const c[] = {pem, NULL}, *const k[] = {key, NULL};

	return tt_cat(cur_pem, c) == 0 && tt_cat(cur_key, k) == 0 ? 0 : -1;
}

/* ---- the client ---------------------------------------------------------- */

struct tt_conn {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	char buf[65536];
	size_t len;
	int eof;
};

static int
tt_wait(struct tt_conn *c, int err, long long deadline)
{
	struct pollfd p = {.fd = c->fd,
			   .events =
			       err == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN};
	long long left = deadline - tl_now_ms();

	if (left <= 0)
		return -1;
	if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
		return -1;
	return 0;
}

static int
tt_tcp(int port, int rcvbuf)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return -1;
	if (rcvbuf > 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
				 sizeof(rcvbuf));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

static void
tt_why(char *why, size_t n, const char *what, SSL *ssl)
{
	unsigned long e = ERR_peek_last_error();
	long v = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;

	snprintf(why, n, "%s: %s%s%s", what,
		 e ? ERR_reason_error_string(e) : "closed",
		 v != X509_V_OK ? ", " : "",
		 v != X509_V_OK ? X509_verify_cert_error_string(v) : "");
	ERR_clear_error();
}

struct tt_conn *
tt_connect(int port, const struct tt_opts *o, char *why, size_t n,
	   int timeout_ms)
{
	long long deadline = tl_now_ms() + timeout_ms;
	struct tt_conn *c = calloc(1, sizeof(*c));

	snprintf(why, n, "?");
	c->fd = tt_tcp(port, o->rcvbuf);
	c->ctx = SSL_CTX_new(TLS_client_method());
	if (c->fd < 0 || !c->ctx) {
		snprintf(why, n, "connect: %s", strerror(errno));
		goto err_close;
	}
	if (o->min_version) {
		SSL_CTX_set_security_level(c->ctx, 0);
		SSL_CTX_set_min_proto_version(c->ctx, o->min_version);
	}
	if (o->max_version)
		SSL_CTX_set_max_proto_version(c->ctx, o->max_version);
	SSL_CTX_set_verify(
	    c->ctx, o->ca_file ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
	if (o->ca_file &&
	    SSL_CTX_load_verify_locations(c->ctx, o->ca_file, NULL) != 1) {
		tt_why(why, n, "CA file", NULL);
		goto err_close;
	}
	c->ssl = SSL_new(c->ctx);
	SSL_set_fd(c->ssl, c->fd);
	if (o->host) {
		SSL_set_tlsext_host_name(c->ssl, o->host);
		if (o->ca_file)
			SSL_set1_host(c->ssl, o->host);
	}
	if (o->session)
		SSL_set_session(c->ssl, o->session);
	for (;;) {
		int r = SSL_connect(c->ssl);
		if (r == 1)
			return c;
		int err = SSL_get_error(c->ssl, r);
		if ((err != SSL_ERROR_WANT_READ &&
		     err != SSL_ERROR_WANT_WRITE) ||
		    tt_wait(c, err, deadline) < 0) {
			tt_why(why, n, "handshake", c->ssl);
			goto err_close;
		}
	}
err_close:
	tt_close(c);
	return NULL;
}

int
tt_write(struct tt_conn *c, const void *p, size_t n, int timeout_ms)
{
	long long deadline = tl_now_ms() + timeout_ms;
	size_t off = 0;

	while (off < n) {
		size_t k = n - off < INT_MAX ? n - off : INT_MAX;
		int r = SSL_write(c->ssl, (const char *)p + off, (int)k);
		if (r > 0) {
			off += (size_t)r;
			continue;
		}
		int err = SSL_get_error(c->ssl, r);
		if ((err != SSL_ERROR_WANT_READ &&
		     err != SSL_ERROR_WANT_WRITE) ||
		    tt_wait(c, err, deadline) < 0) {
			ERR_clear_error();
			return -1;
		}
	}
	return 0;
}

int
tt_send(struct tt_conn *c, const char *fmt, ...)
{
	char buf[8192];
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (len < 0 || (size_t)len >= sizeof(buf))
		return -1;
	return tt_write(c, buf, (size_t)len, 10000);
}

int
tt_read(struct tt_conn *c, void *p, size_t n, int timeout_ms)
{
	long long deadline = tl_now_ms() + timeout_ms;
	size_t k = n < INT_MAX ? n : INT_MAX;

	if (c->len) {
		/* What a line read took in already comes first. */
		k = c->len < k ? c->len : k;
		memcpy(p, c->buf, k);
		memmove(c->buf, c->buf + k, c->len - k);
		c->len -= k;
		return (int)k;
	}
	if (c->eof)
		return 0;
	for (;;) {
		int r = SSL_read(c->ssl, p, (int)k);
		if (r > 0)
			return r;
		int err = SSL_get_error(c->ssl, r);
		if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
			ERR_clear_error();
			c->eof = 1;
			return 0;
		}
		if (tt_wait(c, err, deadline) < 0)
			return -1;
	}
}

/* One line into out (without its LF): its length, -1 timeout, -2 EOF. */
static int
tt_readline(struct tt_conn *c, char *out, size_t n, long long deadline)
{
	for (;;) {
		char *nl = memchr(c->buf, '\n', c->len);
		if (nl) {
			size_t len = (size_t)(nl - c->buf);
			size_t k = len < n - 1 ? len : n - 1;
			memcpy(out, c->buf, k);
			out[k] = '\0';
			memmove(c->buf, nl + 1, c->len - len - 1);
			c->len -= len + 1;
			return (int)k;
		}
		if (c->eof)
			return -2;
		if (c->len == sizeof(c->buf))
			c->len = 0; /* a line this long is a bug; drop it */
		int r = SSL_read(c->ssl, c->buf + c->len,
				 (int)(sizeof(c->buf) - c->len));
		if (r > 0) {
			c->len += (size_t)r;
			continue;
		}
		int err = SSL_get_error(c->ssl, r);
		if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
			if (tt_wait(c, err, deadline) < 0)
				return -1;
			continue;
		}
		ERR_clear_error();
		c->eof = 1;
	}
}

int
tt_expect(struct tt_conn *c, const char *substr, char *out, size_t n,
	  int timeout_ms)
{
	long long deadline = tl_now_ms() + timeout_ms;
	char line[8192];
	int len;

	while ((len = tt_readline(c, line, sizeof(line), deadline)) >= 0) {
		if (strstr(line, substr)) {
			if (out)
				snprintf(out, n, "%s", line);
			return len;
		}
	}
	return len;
}

int
tt_wait_eof(struct tt_conn *c, int timeout_ms)
{
	long long deadline = tl_now_ms() + timeout_ms;
	char line[8192];
	int len;

	while ((len = tt_readline(c, line, sizeof(line), deadline)) >= 0)
		;
	return len == -2 ? 0 : -1;
}

void
tt_peer_cn(struct tt_conn *c, char *out, size_t n)
{
	X509 *x = SSL_get1_peer_certificate(c->ssl);

	snprintf(out, n, "?");
	if (x)
		X509_NAME_get_text_by_NID(X509_get_subject_name(x),
					  NID_commonName, out, (int)n);
	X509_free(x);
}

int
tt_resumed(struct tt_conn *c)
{
	return SSL_session_reused(c->ssl);
}

void *
tt_session(struct tt_conn *c)
{
	return SSL_get1_session(c->ssl);
}

void
tt_session_free(void *session)
{
	SSL_SESSION_free(session);
}

int
tt_client_hello(unsigned char *buf, size_t cap)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl = ctx ? SSL_new(ctx) : NULL;
	BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
	int n = -1;

	if (ssl && rb && wb) {
		SSL_set_bio(ssl, rb, wb); /* ssl owns them now */
		rb = wb = NULL;
		(void)SSL_connect(ssl); /* wants to read the ServerHello */
		n = BIO_read(SSL_get_wbio(ssl), buf, (int)cap);
	}
	BIO_free(rb);
	BIO_free(wb);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return n > 0 ? n : -1;
}

void
tt_close(struct tt_conn *c)
{
	if (!c)
		return;
	SSL_free(c->ssl);
	SSL_CTX_free(c->ctx);
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}
