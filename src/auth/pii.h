/*
 * pii.h - check characters of Chinese identifiers, for building valid values
 * (the demo region, tests) next to the validators in keys.h.
 *
 * Internal to the auth and demo modules.
 */
#ifndef DG_AUTH_PII_H
#define DG_AUTH_PII_H

/* GB 11643 check character ('0'-'9' or 'X') of the first 17 digits; 0 if they are not digits. */
char dg_id_check_char(const char *first17);
/* GB 32100 check character of the first 17 USCC characters; 0 if one is not in the alphabet. */
char dg_uscc_check_char(const char *first17);

#endif
