/*
 * vmath.c — sine, cosine, exp and log for the scene model (see vmath.h):
 * range reduction and short polynomials, accurate to a few units in the
 * last place over the ranges the model uses.
 */
#include "viz/vmath.h"

#include <stdint.h>

#define LN2_HI 6.93147180369123816490e-01 /* ln 2 split so that k * LN2_HI is exact */
#define LN2_LO 1.90821492927058770002e-10
#define PIO2_HI 1.57079632673412561417e+00 /* pi/2, split likewise */
#define PIO2_LO 6.07710050650619224932e-11

static double round_to_int(double x)
{
	return (double)(int64_t)(x < 0 ? x - 0.5 : x + 0.5);
}

/* Taylor series on |r| <= pi/4; the last terms are below 1e-17. */
static double sin_poly(double r)
{
	double r2 = r * r;
	return r * (1 + r2 * (-1.0 / 6 + r2 * (1.0 / 120 + r2 * (-1.0 / 5040 +
	       r2 * (1.0 / 362880 + r2 * (-1.0 / 39916800 + r2 * (1.0 / 6227020800.0 +
	       r2 * (-1.0 / 1307674368000.0))))))));
}

static double cos_poly(double r)
{
	double r2 = r * r;
	return 1 + r2 * (-1.0 / 2 + r2 * (1.0 / 24 + r2 * (-1.0 / 720 + r2 * (1.0 / 40320 +
	       r2 * (-1.0 / 3628800 + r2 * (1.0 / 479001600.0 +
	       r2 * (-1.0 / 87178291200.0 + r2 * (1.0 / 20922789888000.0))))))));
}

/* sin(x) (COSINE false) or cos(x), from the quadrant of x. */
static double sincos_reduced(double x, int cosine)
{
	double k = round_to_int(x / (VM_PI / 2));
	double r = (x - k * PIO2_HI) - k * PIO2_LO;
	int quadrant = (int)((int64_t)k & 3) + cosine;
	switch (quadrant & 3) {
	case 0: return sin_poly(r);
	case 1: return cos_poly(r);
	case 2: return -sin_poly(r);
	default: return -cos_poly(r);
	}
}

double vm_sin(double x) { return sincos_reduced(x, 0); }
double vm_cos(double x) { return sincos_reduced(x, 1); }

double vm_exp(double x)
{
	if (x > 700)
		x = 700;
	if (x < -700)
		return 0;
	double k = round_to_int(x / LN2_HI);
	double r = (x - k * LN2_HI) - k * LN2_LO; /* |r| <= 0.35 */
	double p = 1, term = 1;
	for (int i = 1; i <= 14; i++) {
		term *= r / i;
		p += term;
	}
	union {
		double d;
		uint64_t u;
	} scale = {.u = (uint64_t)((int64_t)k + 1023) << 52};
	return p * scale.d;
}

double vm_log(double x)
{
	if (!(x > 0))
		return -745; /* log of the smallest double: callers pass x > 0 */
	union {
		double d;
		uint64_t u;
	} bits = {.d = x};
	int exponent = (int)((bits.u >> 52) & 0x7ff) - 1023;
	bits.u = (bits.u & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL; /* mantissa in [1, 2) */
	double m = bits.d;
	if (m > 1.41421356237309504880) {
		m /= 2;
		exponent++;
	}
	/* log m = 2 atanh f with f = (m - 1) / (m + 1), |f| < 0.172 */
	double f = (m - 1) / (m + 1), f2 = f * f, sum = 0, power = f;
	for (int i = 1; i <= 23; i += 2) {
		sum += power / i;
		power *= f2;
	}
	return 2 * sum + exponent * LN2_HI + exponent * LN2_LO;
}

double vm_ease(double u)
{
	if (u <= 0)
		return 0;
	if (u >= 1)
		return 1;
	return u * u * (3 - 2 * u);
}
