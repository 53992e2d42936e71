/*
 * text.c — the little text formatting the model does without libc: the
 * clock ("2024-05-01 12:00:03.250 UTC", "+1:02.250") and counts ("12,345").
 */
#include "viz/scene.h"

size_t vz_strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

/*
 * DejaVu Sans's advance widths of the printable ASCII characters, in
 * thousandths of an em (as cairo measures them, rounded up): labels are
 * placed by their real width, so that "mnt" (2 em) does not run into the
 * next name as "0.6 em a character" let it.
 */
static const uint16_t ascii_width[95] = {
	318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361, 318, 337,
	636, 636, 636, 636, 636, 636, 636, 636, 636, 636, 337, 337, 838, 838, 838, 531,
	1000, 684, 686, 698, 770, 632, 575, 775, 752, 295, 295, 656, 557, 863, 748, 787,
	603, 787, 695, 635, 611, 732, 684, 989, 685, 611, 685, 390, 337, 390, 838, 500,
	500, 613, 635, 550, 635, 615, 352, 635, 634, 278, 278, 579, 278, 974, 634, 612,
	635, 635, 411, 521, 392, 634, 592, 818, 592, 592, 525, 636, 337, 636, 838,
};

double vz_text_em(const char *text, size_t len)
{
	uint32_t thousandths = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c >= 32 && c < 127)
			thousandths += ascii_width[c - 32];
		else if ((c & 0xc0) != 0x80)
			thousandths += 1000; /* the start of anything else: as wide as the widest */
	}
	return thousandths / 1000.0;
}

static size_t append_n(char *buf, size_t size, size_t len, const char *text, size_t n)
{
	for (size_t i = 0; i < n && len + 1 < size; i++)
		buf[len++] = text[i];
	buf[len] = '\0';
	return len;
}

size_t vz_append(char *buf, size_t size, size_t len, const char *text)
{
	return append_n(buf, size, len, text, vz_strlen(text));
}

size_t vz_append_uint(char *buf, size_t size, size_t len, uint64_t value, int min_digits,
		      bool thousands)
{
	char digits[32];
	int n = 0;
	do {
		if (thousands && n % 4 == 3)
			digits[n++] = ',';
		digits[n++] = (char)('0' + value % 10);
		value /= 10;
	} while (value || n < min_digits);
	while (n > 0 && len + 1 < size)
		buf[len++] = digits[--n];
	buf[len] = '\0';
	return len;
}

/* Days since 1970-01-01 to a civil date (H. Hinnant's algorithm). */
static void civil_from_days(int64_t days, int64_t *year, unsigned *month, unsigned *day)
{
	days += 719468;
	int64_t era = (days >= 0 ? days : days - 146096) / 146097;
	unsigned doe = (unsigned)(days - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*day = doy - (153 * mp + 2) / 5 + 1;
	*month = mp < 10 ? mp + 3 : mp - 9;
	*year = (int64_t)yoe + era * 400 + (*month <= 2);
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

void vz_format_clock(char *buf, size_t size, int64_t ns)
{
	int64_t ms = floor_div(ns, 1000000);
	int64_t days = floor_div(ms, 86400000);
	int64_t in_day = ms - days * 86400000;
	int64_t year;
	unsigned month, day;
	civil_from_days(days, &year, &month, &day);
	size_t len = 0;
	buf[0] = '\0';
	len = vz_append_uint(buf, size, len, (uint64_t)(year < 0 ? 0 : year), 4, false);
	len = vz_append(buf, size, len, "-");
	len = vz_append_uint(buf, size, len, month, 2, false);
	len = vz_append(buf, size, len, "-");
	len = vz_append_uint(buf, size, len, day, 2, false);
	len = vz_append(buf, size, len, " ");
	len = vz_append_uint(buf, size, len, (uint64_t)(in_day / 3600000), 2, false);
	len = vz_append(buf, size, len, ":");
	len = vz_append_uint(buf, size, len, (uint64_t)(in_day / 60000 % 60), 2, false);
	len = vz_append(buf, size, len, ":");
	len = vz_append_uint(buf, size, len, (uint64_t)(in_day / 1000 % 60), 2, false);
	len = vz_append(buf, size, len, ".");
	len = vz_append_uint(buf, size, len, (uint64_t)(in_day % 1000), 3, false);
	vz_append(buf, size, len, " UTC");
}

void vz_format_elapsed(char *buf, size_t size, int64_t ns)
{
	size_t len = 0;
	buf[0] = '\0';
	len = vz_append(buf, size, len, ns < 0 ? "-" : "+");
	uint64_t ms = (uint64_t)(ns < 0 ? -ns : ns) / 1000000;
	if (ms >= 3600000) {
		len = vz_append_uint(buf, size, len, ms / 3600000, 1, false);
		len = vz_append(buf, size, len, ":");
		len = vz_append_uint(buf, size, len, ms / 60000 % 60, 2, false);
	} else {
		len = vz_append_uint(buf, size, len, ms / 60000, 1, false);
	}
	len = vz_append(buf, size, len, ":");
	len = vz_append_uint(buf, size, len, ms / 1000 % 60, 2, false);
	len = vz_append(buf, size, len, ".");
	vz_append_uint(buf, size, len, ms % 1000, 3, false);
}
