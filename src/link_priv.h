/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_SRC_LINK_PRIV_H
#define AXLINK_SRC_LINK_PRIV_H

/*
 * Internal view of links: cancelling one's own request, and nobody else's.
 * (Not src/link.h: with src/ on the include path that name would shadow
 * the system's <link.h>, which the loader needs.)
 *
 * ax_link_cancel() aborts whatever request is in flight on a link, whoever
 * made it; a background worker that shares the link with other users (the
 * poller) must abort only its own. A thread marks the requests it makes
 * with a tag (ax__link_tag_set); ax__link_cancel_tagged() signals the
 * transport only while a request with that tag is inside the plugin, and
 * the check and the signal happen under a lock that the request takes
 * again before it ends, so a cancel can never reach the next request.
 *
 * A cancel that arrives after the request started but before the
 * transport looked at its cancel signal may be dropped (transports forget
 * stale cancels when a request starts): callers repeat it until the
 * request returns.
 */

#include "axlink/link.h"

/*
 * Tag the requests the calling thread makes from now on (NULL: untagged,
 * the default). The tag is only compared, never dereferenced. Returns the
 * previous tag, to restore.
 */
const void *ax__link_tag_set(const void *tag);

/*
 * Cancel the request in flight on @link if the thread that made it tagged
 * it with @tag (not NULL). Returns 1 when the transport was signalled, 0
 * when no request of @tag runs or the transport cannot cancel (nothing
 * done, no error set), or a negative code from the transport.
 */
int ax__link_cancel_tagged(ax_link *link, const void *tag);

/*
 * A multi-request exchange on @link that no other exchange may interleave
 * with (a table's select-then-access pair: src/table.c). Per link, not per
 * drive: drives of other dictionary views share the link of one endpoint.
 * Single requests still go one at a time; this lock only orders exchanges
 * among themselves. Not recursive.
 */
void ax__link_exchange_begin(ax_link *link);
void ax__link_exchange_end(ax_link *link);

/*
 * Split reads (plugin ABI 1.4, ops->submit_read ...), for ax_batch_run():
 * ax__link_submit_read() takes the link's lock and sends the request; the
 * lock stays held, on the calling thread, until ax__link_complete_read()
 * returns something other than AX_PLUGIN_PENDING or ax__link_abandon()
 * is called, so the link keeps one request in flight. Errors are set and
 * worded as ax_link_read() does.
 */

/* True when @link's transport implements split reads. */
int ax__link_can_split(const ax_link *link);

/* Check that @reg can be read on @link (reach, access), as ax_link_read_reg() does. */
int ax__link_reg_check_read(const ax_link *link, const ax_reg *reg);

/*
 * Send the read of (@subnode, @address). Returns 0 (in flight, lock held),
 * 1 when someone else's request holds the link (nothing done: try again
 * later), or a negative error (nothing in flight, lock released).
 */
int ax__link_submit_read(ax_link *link, unsigned subnode, uint32_t address);

/* The fd to poll for POLLIN, and when to call complete even without input. */
int ax__link_pollfd(ax_link *link, uint64_t *wake_ns);

/* AX_PLUGIN_PENDING, or the read's outcome (then the lock is released). */
int ax__link_complete_read(ax_link *link, void *buf, size_t cap, size_t *len_out);

/* Give the read in flight up; releases the lock. */
void ax__link_abandon(ax_link *link);

/*
 * Shape a raw value of @len bytes in @raw (which has room for one more
 * byte) as ax_link_read_value() does for @dtype, into @buf (may be @raw).
 */
int ax__link_value_shape(unsigned subnode, uint32_t address, int dtype, uint8_t *raw, size_t len,
                         void *buf, size_t cap, size_t *len_out);

#endif
