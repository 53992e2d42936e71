/*
 * vmath.h — the few mathematical functions the scene model needs, written
 * here rather than taken from libm so that the model builds without libc
 * (WebAssembly) and computes exactly the same numbers on every platform.
 */
#ifndef TRACEFS_VIZ_VMATH_H
#define TRACEFS_VIZ_VMATH_H

#define VM_PI 3.14159265358979323846

/* The compilers turn these into single instructions (sqrtsd, f64.sqrt...). */
static inline double vm_sqrt(double x) { return x > 0 ? __builtin_sqrt(x) : 0; }
static inline double vm_fabs(double x) { return x < 0 ? -x : x; }
static inline double vm_min(double a, double b) { return a < b ? a : b; }
static inline double vm_max(double a, double b) { return a > b ? a : b; }
static inline double vm_clamp(double x, double lo, double hi)
{
	return x < lo ? lo : x > hi ? hi : x;
}

double vm_sin(double x);
double vm_cos(double x);
double vm_exp(double x);
double vm_log(double x); /* x > 0 */

/* 0 at u <= 0, 1 at u >= 1, smooth in between with zero slope at both ends. */
double vm_ease(double u);

#endif
