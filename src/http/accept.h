/*
 * accept.h - content negotiation on the Accept header (RFC 9110 12.5.1):
 * which of the media types a handler can send the client prefers. Used
 * where one IRI answers HTML or RDF (the catalogue's DCAT IRIs).
 *
 * Only the first DG_ACCEPT_MAX bytes and DG_ACCEPT_RANGES ranges are read;
 * a range that cannot be parsed, or whose q is not a valid qvalue, is
 * skipped, as if the client had not sent it.
 */
#ifndef DG_HTTP_ACCEPT_H
#define DG_HTTP_ACCEPT_H

#include <stddef.h>

#define DG_ACCEPT_MAX    4096
#define DG_ACCEPT_RANGES 64

/*
 * The index in offers[0..n) (media types "type/subtype", lower case) that
 * accept prefers: the highest q of the most specific range matching each
 * offer (type/subtype over type/ over * / *), the earlier offer on a tie.
 * No header, or an empty one: 0 (the client takes anything). -1 when no
 * offer is acceptable (every match has q=0, or nothing matches).
 */
int dg_accept_pick(const char *accept, const char *const *offers, size_t n);

#endif
