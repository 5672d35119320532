/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_SCOPE_H
#define AXLINK_SCOPE_H

/**
 * @file axlink/scope.h
 * @brief Drive-side capture: the drive's oscilloscope ("monitoring") and
 *        signal injection ("disturbance").
 * @defgroup ax_scope Scope and disturbance
 *
 * MCB drives sample registers inside their control loop into a buffer
 * (monitoring) and play a waveform into registers (disturbance), through
 * the MON_* and DIST_* registers of their dictionary on subnode 0 (protocol
 * version 3). The host only configures, waits and then reads the buffer in
 * extended frames of 512 bytes, so a capture runs at the drive's loop rate
 * whatever the bus round trip.
 *
 * A capture: ax_scope_new(), ax_scope_add_channel() for each register,
 * ax_scope_set_period_us() (a multiple of the drive's base period),
 * ax_scope_set_trigger(), ax_scope_set_samples(), ax_scope_arm(),
 * ax_scope_wait(), ax_scope_fetch(), then the data: ax_scope_data() per
 * channel as doubles, ax_scope_raw() as the drive sent it, ax_scope_time().
 * ax_scope_capture() does arm, wait and fetch in one call.
 *
 * Thread safety: the calls on one ax_scope or ax_disturbance are one thread
 * at a time (the objects hold no lock; their requests go through the
 * drive's link, which is safe); only the ax_cancel a wait watches may be
 * triggered from another thread or a signal handler. Different objects on
 * different drives are independent. Ownership: the objects hold their
 * drive; data they return is borrowed until the next fetch, arm or change.
 * @{
 */

#include "axlink/cancel.h"
#include "axlink/common.h"
#include "axlink/dict.h"
#include "axlink/drive.h"

AX_BEGIN_DECLS

/**
 * A monitoring configuration of one drive and the last capture it fetched.
 * Thread safety: one thread at a time (another thread may trigger the
 * ax_cancel given to ax_scope_wait()). One scope per drive at a time: the
 * drive has one monitoring engine.
 */
typedef struct ax_scope ax_scope;

/**
 * A disturbance (waveform injection) configuration of one drive.
 * Thread safety: one thread at a time.
 */
typedef struct ax_disturbance ax_disturbance;

/** What starts a capture (ax_scope_set_trigger()). */
typedef enum ax_scope_trigger {
	AX_SCOPE_TRIGGER_IMMEDIATE = 0, /**< as soon as armed */
	AX_SCOPE_TRIGGER_RISING = 1,    /**< the channel goes from below the level to at or above */
	AX_SCOPE_TRIGGER_FALLING = 2,   /**< the channel goes from above the level to at or below */
	AX_SCOPE_TRIGGER_EITHER = 3,    /**< either edge */
} ax_scope_trigger;

/** Most channels a scope takes whatever the drive says (drives report fewer). */
#define AX_SCOPE_MAX_CHANNELS 64

/**
 * Create a scope on @p drive: reads the number of channels the drive maps
 * (ax_scope_max_channels()) and its sampling base period
 * (ax_scope_base_period_us()).
 *
 * Ownership: *out gets one reference (ax_scope_unref()); the scope holds a
 * reference on @p drive. Untouched on failure.
 * Thread safety: safe; the scope is one thread at a time.
 * @return 0; AX_EUNSUPPORTED (the drive's dictionary has no monitoring
 *         registers, or none at all: the message names what is missing);
 *         or what ax_drive_read_i64() returns.
 * @since 0.3
 */
AX_API int ax_scope_new(ax_scope **out, ax_drive *drive);

/** Take a reference; returns @p scope. Thread safety: safe. @since 0.3 */
AX_API ax_scope *ax_scope_ref(ax_scope *scope);

/**
 * Drop a reference; accepts NULL; returns NULL. The last one does not touch
 * the drive (call ax_scope_disable() first to stop its monitoring).
 * Thread safety: safe.
 * @since 0.3
 */
AX_API ax_scope *ax_scope_unref(ax_scope *scope);

/** The drive (borrowed for the scope's life). @since 0.3 */
AX_API ax_drive *ax_scope_drive(const ax_scope *scope);

/** How many channels the drive samples at most. @since 0.3 */
AX_API unsigned ax_scope_max_channels(const ax_scope *scope);

/** The drive's sampling base period in microseconds (prescaler 1). @since 0.3 */
AX_API double ax_scope_base_period_us(const ax_scope *scope);

/**
 * Add register @p id of @p subnode (< 0: the first of that id) as the next
 * channel. Strings and byte arrays cannot be sampled; neither can a
 * register the dictionary does not give a monitoring address (CONFIG
 * registers of a version 2 file; without a MonDistV3 element in a version
 * 3 file).
 * @return the new channel's index (>= 0); AX_ENOTFOUND (no such register);
 *         AX_EUNSUPPORTED (not monitorable: the message says why);
 *         AX_ERANGE (already ax_scope_max_channels() channels: the message
 *         names the limit); AX_EBUSY (armed: disable first).
 * Thread safety: one thread at a time, as the scope.
 * @since 0.3
 */
AX_API int ax_scope_add_channel(ax_scope *scope, const char *id, int subnode);

/** ax_scope_add_channel() with a register of the drive's dictionary. @since 0.3 */
AX_API int ax_scope_add_channel_reg(ax_scope *scope, const ax_reg *reg);

/**
 * Remove every channel (and an edge trigger, which names one); no effect
 * while armed (ax_scope_disable() first). @since 0.3
 */
AX_API void ax_scope_clear_channels(ax_scope *scope);

/** Number of channels. @since 0.3 */
AX_API unsigned ax_scope_channel_count(const ax_scope *scope);

/** Register of channel @p channel (borrowed from the dictionary), or NULL. @since 0.3 */
AX_API const ax_reg *ax_scope_channel_reg(const ax_scope *scope, unsigned channel);

/**
 * Sample every @p period_us microseconds: a whole multiple (the prescaler)
 * of ax_scope_base_period_us(). The default is the base period.
 * @return 0; AX_ERANGE (below the base period, or not a multiple of it:
 *         the message names the base period and the nearest periods).
 * @since 0.3
 */
AX_API int ax_scope_set_period_us(ax_scope *scope, double period_us);

/** The sample period in microseconds. @since 0.3 */
AX_API double ax_scope_period_us(const ax_scope *scope);

/**
 * Start captures with @p trigger; an edge compares channel @p channel with
 * @p level, in that register's units (converted to its type as
 * ax_value_from_f64() does: a level the type cannot hold is AX_ERANGE).
 * AX_SCOPE_TRIGGER_IMMEDIATE ignores @p channel and @p level.
 * @return 0; AX_EINVAL (unknown trigger, or no such channel); AX_ERANGE;
 *         AX_EUNSUPPORTED (a 64-bit trigger channel: the drive compares 32
 *         bits).
 * @since 0.3
 */
AX_API int ax_scope_set_trigger(ax_scope *scope, int trigger, unsigned channel, double level);

/**
 * Capture @p samples samples per channel, @p pre of them before the trigger
 * (ax_scope_time() is 0 at the trigger sample).
 * @return 0; AX_ERANGE (no samples, @p pre >= @p samples, or more than the
 *         drive's buffer holds with the mapped channels: the message gives
 *         the buffer size). The buffer check happens at arm when channels
 *         change after.
 * @since 0.3
 */
AX_API int ax_scope_set_samples(ax_scope *scope, uint32_t samples, uint32_t pre);

/**
 * Configure the drive's monitoring with the scope's settings and start it:
 * disable, clear the map, prescaler, channels, trigger, samples, enable.
 * With an edge trigger it returns once the drive has its pre-trigger
 * samples and watches the level, so an edge caused after the call is seen.
 * @return 0; AX_EINVAL (no channels); AX_ERANGE (the buffer is too small);
 *         AX_EDRIVE (the drive refused a setting: the message names the
 *         register); AX_ETIMEDOUT (the drive never took its pre-trigger
 *         samples); or what ax_link_write() returns.
 * @since 0.3
 */
AX_API int ax_scope_arm(ax_scope *scope);

/**
 * Wait until the armed capture is complete in the drive's buffer.
 * Polls the monitoring status every few milliseconds; a cancel is seen
 * between two requests (so within one request timeout).
 * @param timeout_ms  for the whole wait; <= 0 waits without a deadline
 * @param cancel      NULL, or a token another thread or a signal handler
 *                    triggers
 * @return 0; AX_ETIMEDOUT (the message says whether the trigger came);
 *         AX_ECANCELED; AX_EINVAL (not armed); or what ax_link_read() returns.
 * @since 0.3
 */
AX_API int ax_scope_wait(ax_scope *scope, int timeout_ms, ax_cancel *cancel);

/**
 * Read the capture from the drive (MON_DATA_VALUE in extended frames until
 * the drive has no more), decode it, and keep it in the scope until the next
 * fetch or arm.
 * @return the number of samples per channel (>= 0); AX_EPROTO (the drive
 *         sent a length that is not whole samples, or more than it said);
 *         or what ax_link_read() returns.
 * @since 0.3
 */
AX_API int ax_scope_fetch(ax_scope *scope);

/**
 * ax_scope_arm(), ax_scope_wait() and ax_scope_fetch().
 * @return as those.
 * @since 0.3
 */
AX_API int ax_scope_capture(ax_scope *scope, int timeout_ms, ax_cancel *cancel);

/**
 * Arm again with the same configuration (the drive's re-arm).
 * @return as ax_scope_arm().
 * @since 0.3
 */
AX_API int ax_scope_rearm(ax_scope *scope);

/**
 * Stop the drive's monitoring and discard what its buffer holds.
 * @return 0, or what ax_link_write() returns.
 * @since 0.3
 */
AX_API int ax_scope_disable(ax_scope *scope);

/** Samples per channel of the last fetch (0 before one). @since 0.3 */
AX_API size_t ax_scope_sample_count(const ax_scope *scope);

/**
 * The values of channel @p channel in the last fetch, as doubles (exact for
 * integers up to 2^53 and for floats), or NULL (no such channel).
 * Ownership: borrowed until the next fetch, arm or channel change.
 * @since 0.3
 */
AX_API const double *ax_scope_data(const ax_scope *scope, unsigned channel);

/**
 * Time of each sample of the last fetch in seconds, 0 at the trigger
 * (negative for pre-trigger samples), or at the waveform's first sample for
 * a capture started by ax_disturbance_start(). Borrowed as ax_scope_data().
 * @since 0.3
 */
AX_API const double *ax_scope_time(const ax_scope *scope);

/**
 * The last fetch as the drive sent it: ax_scope_sample_count() blocks of
 * ax_scope_block_size() bytes, the channels packed in order, each
 * little-endian in its register's type. Borrowed as ax_scope_data().
 * @param[out] len_out  its length in bytes (may be NULL)
 * @since 0.3
 */
AX_API const uint8_t *ax_scope_raw(const ax_scope *scope, size_t *len_out);

/** Bytes per sample block: the sum of the channels' sizes. @since 0.3 */
AX_API size_t ax_scope_block_size(const ax_scope *scope);

/** Byte offset of channel @p channel in a block (0 for a bad index). @since 0.3 */
AX_API size_t ax_scope_channel_offset(const ax_scope *scope, unsigned channel);

/**
 * Bytes the last fetch took on the wire, requests and replies, frame
 * headers included (for comparing with the host poller). @since 0.3
 */
AX_API uint64_t ax_scope_wire_bytes(const ax_scope *scope);

/**
 * Create a disturbance on @p drive.
 * Ownership: *out gets one reference (ax_disturbance_unref()); it holds a
 * reference on @p drive. Untouched on failure.
 * Thread safety: safe; the object is one thread at a time.
 * @return 0; AX_EUNSUPPORTED (no disturbance registers in the dictionary);
 *         or what ax_drive_read_i64() returns.
 * @since 0.3
 */
AX_API int ax_disturbance_new(ax_disturbance **out, ax_drive *drive);

/** Take a reference; returns @p dist. Thread safety: safe. @since 0.3 */
AX_API ax_disturbance *ax_disturbance_ref(ax_disturbance *dist);

/** Drop a reference; accepts NULL; returns NULL. Thread safety: safe. @since 0.3 */
AX_API ax_disturbance *ax_disturbance_unref(ax_disturbance *dist);

/**
 * Add register @p id of @p subnode as the next target. It must be writable
 * and monitorable (same address rules as ax_scope_add_channel()).
 * @return the channel index (>= 0); AX_ENOTFOUND; AX_EUNSUPPORTED;
 *         AX_EACCESS (read-only); AX_ERANGE (too many channels).
 * @since 0.3
 */
AX_API int ax_disturbance_add_channel(ax_disturbance *dist, const char *id, int subnode);

/**
 * Play a sample every @p period_us microseconds (a multiple of the base
 * period, as ax_scope_set_period_us()). The drive has one prescaler for
 * monitoring and disturbance: a scope started with the disturbance uses
 * this period too.
 * @return 0, AX_ERANGE.
 * @since 0.3
 */
AX_API int ax_disturbance_set_period_us(ax_disturbance *dist, double period_us);

/**
 * Set the waveform of channel @p channel: @p n samples, converted to the
 * register's type as ax_value_from_f64() does and checked against the
 * dictionary's range. Every channel must get the same number of samples.
 * Ownership: the samples are copied.
 * @return 0; AX_EINVAL (no such channel, n == 0, or a count that differs
 *         from another channel's); AX_ERANGE (sample i does not fit: the
 *         message names i, the value and the register).
 * @since 0.3
 */
AX_API int ax_disturbance_set_waveform(ax_disturbance *dist, unsigned channel,
                                       const double *samples, size_t n);

/**
 * Configure the drive's disturbance (map, samples) and write the waveform
 * to it in extended frames of 512 bytes.
 * @return 0; AX_EINVAL (no channel, or a channel without a waveform);
 *         AX_ERANGE (more than the drive's buffer); AX_EDRIVE; or what
 *         ax_link_write() returns.
 * @since 0.3
 */
AX_API int ax_disturbance_load(ax_disturbance *dist);

/**
 * Start the loaded waveform; with @p scope (may be NULL) arm that scope
 * first so that its first sample is the waveform's first: a synchronous
 * stimulus/response record, ax_scope_time() 0 at the waveform's start.
 *
 * The scope triggers on the first change of the first target's waveform
 * (its register becomes a channel of the scope when it is not one), with
 * as many pre-trigger samples as come before that change: the scope's own
 * trigger and pre-trigger setting are replaced, and its period becomes the
 * disturbance's. The target must hold a steady value until the start. A
 * waveform that never changes (or a 64-bit target) has no edge to align
 * on: the capture then starts at once, at most one drive cycle apart.
 * @return 0; AX_EINVAL (not loaded, or a scope of another drive);
 *         AX_ERANGE (the first change comes after the scope's samples);
 *         what ax_scope_arm() returns; or what ax_link_write() returns.
 * @since 0.3
 */
AX_API int ax_disturbance_start(ax_disturbance *dist, ax_scope *scope);

/**
 * Wait until the started waveform has played to its end: the "playing"
 * bit of DIST_STATUS (bitfield DISTURBANCE_PLAYING) when the dictionary
 * names it, else the waveform's length in time. Targets keep the last sample.
 * @param timeout_ms  for the whole wait; <= 0 waits without a deadline
 * @param cancel      NULL, or a token another thread or a signal handler triggers
 * @return 0; AX_ETIMEDOUT; AX_ECANCELED; AX_EINVAL (not loaded); or what
 *         ax_link_read() returns.
 * @since 0.3
 */
AX_API int ax_disturbance_wait(ax_disturbance *dist, int timeout_ms, ax_cancel *cancel);

/**
 * Stop the waveform and discard the drive's disturbance data.
 * @return 0, or what ax_link_write() returns.
 * @since 0.3
 */
AX_API int ax_disturbance_stop(ax_disturbance *dist);

/** Bytes the last ax_disturbance_load() took on the wire. @since 0.3 */
AX_API uint64_t ax_disturbance_wire_bytes(const ax_disturbance *dist);

AX_END_DECLS

/** @} */
#endif
