/*
 * nfc.c - Unicode normalization form C (str.h) by ICU's normalizer
 * (Debian's libicu): a full NFC, composition tables and all, which no
 * table of dgov's own should try to keep up with. The text goes to UTF-16
 * and back, as ICU's C API works on it.
 */
#include "str.h"

#include <unicode/unorm2.h>
#include <unicode/ustring.h>

dg_rc dg_utf8_nfc(const char *p, size_t n, char *out, size_t cap, size_t *len)
{
	/* UTF-16 has at most one unit a byte of UTF-8; NFC grows text by at most 3x */
	UChar in[DG_NFC_MAX], norm[3 * DG_NFC_MAX];
	UErrorCode e = U_ZERO_ERROR;
	int32_t nin = 0, nnorm = 0, nout = 0;
	*len = 0;
	if (cap > 0)
		out[0] = '\0';
	if (n > DG_NFC_MAX || cap == 0)
		return DG_ETOOBIG;
	if (!dg_utf8_valid(p, n))
		return DG_EINVAL;
	const UNormalizer2 *nfc = unorm2_getNFCInstance(&e);
	if (U_SUCCESS(e))
		u_strFromUTF8(in, DG_NFC_MAX, &nin, p, (int32_t)n, &e);
	if (U_SUCCESS(e))
		nnorm = unorm2_normalize(nfc, in, nin, norm, 3 * DG_NFC_MAX, &e);
	if (U_SUCCESS(e))
		u_strToUTF8(out, (int32_t)cap, &nout, norm, nnorm, &e);
	/* a full buffer is not terminated: ICU says so with a warning */
	if (e == U_BUFFER_OVERFLOW_ERROR || e == U_STRING_NOT_TERMINATED_WARNING ||
	    (size_t)nout >= cap) {
		out[0] = '\0';
		return DG_ETOOBIG;
	}
	if (U_FAILURE(e)) {
		out[0] = '\0';
		return DG_EINVAL;
	}
	*len = (size_t)nout;
	return DG_OK;
}
