/* SPDX-License-Identifier: MIT */
/*
 * Cancellation tokens: a reference count and one atomic flag, so that a
 * signal handler may trigger one.
 */
#define AX__ERROR_CLASS AX_ERRCLASS_INTERNAL /* errors set here; see src/error.h */

#include <stdatomic.h>
#include <stdlib.h>

#include "axlink/cancel.h"
#include "error.h"

struct ax_cancel {
	atomic_int refs;
	atomic_int triggered; /* lock-free, so the trigger is async-signal-safe */
};

int ax_cancel_new(ax_cancel **out)
{
	ax_cancel *c;

	AX_ASSERT_ARG(out);
	c = calloc(1, sizeof(*c));
	if (!c)
		return ax__error_oom();
	atomic_init(&c->refs, 1);
	atomic_init(&c->triggered, 0);
	*out = c;
	return 0;
}

ax_cancel *ax_cancel_ref(ax_cancel *cancel)
{
	if (cancel)
		atomic_fetch_add(&cancel->refs, 1);
	return cancel;
}

ax_cancel *ax_cancel_unref(ax_cancel *cancel)
{
	if (cancel && atomic_fetch_sub(&cancel->refs, 1) == 1)
		free(cancel);
	return NULL;
}

void ax_cancel_trigger(ax_cancel *cancel)
{
	if (cancel)
		atomic_store(&cancel->triggered, 1);
}

int ax_cancel_requested(const ax_cancel *cancel)
{
	return cancel ? atomic_load(&((ax_cancel *)cancel)->triggered) : 0;
}

void ax_cancel_reset(ax_cancel *cancel)
{
	if (cancel)
		atomic_store(&cancel->triggered, 0);
}
