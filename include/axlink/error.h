/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_ERROR_H
#define AXLINK_ERROR_H

/**
 * @file axlink/error.h
 * @brief Error codes and the thread-local last-error message.
 * @defgroup ax_error Errors
 *
 * Fallible calls return 0 (or a count >= 0) on success and a negative
 * ax_error_code on failure. The failing call leaves a one-line message with
 * its context (what, where) that ax_error_last() returns on the same thread,
 * and the class of the module that detected it (ax_error_last_class()), so a
 * caller can tell a bad frame from a bad file without parsing the message.
 * Codes are stable: they are never renumbered; new ones are appended.
 * @{
 */

#include "axlink/common.h"

AX_BEGIN_DECLS

/** Error codes; all failures are negative. */
typedef enum ax_error_code {
	AX_OK = 0,
	AX_ERROR = -1,     /**< generic failure; see the message */
	AX_EINVAL = -2,    /**< invalid argument or malformed input text */
	AX_ENOMEM = -3,    /**< out of memory */
	AX_ENOTFOUND = -4, /**< no such object (plugin, scheme, file, device) */
	AX_ETIMEDOUT = -5, /**< no reply within the deadline */
	AX_EBUSY = -6,     /**< resource held by someone else */
	AX_EABI = -7,      /**< plugin ABI mismatch */
	AX_EIO = -8,       /**< I/O error on the transport */
	AX_EPROTO = -9,    /**< malformed frame, or a protocol violation by the device */
	AX_ECRC = -10,     /**< frame checksum mismatch */
	AX_EADDR = -11,    /**< reply for another subnode or address */
	AX_EDRIVE =
	        -12, /**< the drive answered with an error reply; see ax_error_last_drive_code() */
	AX_ETOOBIG = -13,       /**< a length over the protocol or buffer limit */
	AX_ETRUNC = -14,        /**< frame shorter than its header says */
	AX_EUNSUPPORTED = -15,  /**< operation not supported by this transport or object */
	AX_EACCESS = -16,       /**< permission denied */
	AX_ECANCELED = -17,     /**< cancelled from another thread */
	AX_EDISCONNECTED = -18, /**< the device went away */
	AX_ERANGE = -19,        /**< value out of range for its type */
	AX_ETYPE = -20,         /**< value has the wrong type or size */
	AX_EUNKNOWNKEY = -21,   /**< URI or option key that the transport does not accept */
	AX_EFORMAT = -22,       /**< a file not in its format: bad XML, not a dictionary (0.2) */
	AX_ECORRUPT = -23,      /**< a damaged or foreign device database file (0.2) */
} ax_error_code;

/**
 * Which part of the library detected the last error: the same code means
 * different things to a caller (AX_ENOTFOUND for a register, a plugin or a
 * model), the class says which. Classes are stable: they are never renumbered.
 * @since 0.2
 */
typedef enum ax_error_class {
	AX_ERRCLASS_NONE = 0,      /**< no error */
	AX_ERRCLASS_TRANSPORT = 1, /**< a link or its transport plugin: I/O, timeouts, frames */
	AX_ERRCLASS_PLUGIN = 2,    /**< finding or loading a plugin; no plugin for a scheme */
	AX_ERRCLASS_DICT = 3,      /**< a dictionary: its file, its registers, finding one */
	AX_ERRCLASS_DB = 4,        /**< a device database file */
	AX_ERRCLASS_DRIVE = 5,     /**< the drive: its error replies, identity, state, motion */
	AX_ERRCLASS_ARGUMENT = 6,  /**< the caller's input: NULL, a URI, a value, an option */
	AX_ERRCLASS_INTERNAL = 7,  /**< anything else: threads, the simulator, library bugs */
} ax_error_class;

/**
 * Static description of an error code ("timed out", ...).
 *
 * Ownership: static string; never NULL (unknown codes give "unknown error").
 * Thread safety: safe.
 * @since 0.1
 */
AX_API const char *ax_strerror(int code);

/**
 * Symbolic name of an error code ("AX_ETIMEDOUT"), or NULL when unknown.
 *
 * Thread safety: safe.
 * @since 0.1
 */
AX_API const char *ax_error_name(int code);

/**
 * The message of the last failed call on this thread.
 *
 * Never NULL: "no error" when nothing failed yet.
 * Ownership: borrowed; valid until the next axlink call on this thread.
 * Thread safety: thread-local.
 * @since 0.1
 */
AX_API const char *ax_error_last(void);

/**
 * The code of the last failed call on this thread (0 when none).
 *
 * Thread safety: thread-local.
 * @since 0.1
 */
AX_API int ax_error_last_code(void);

/**
 * The ax_error_class of the last failed call on this thread
 * (AX_ERRCLASS_NONE when none): the module that detected the failure.
 * Errors a transport plugin reports through the host table are
 * AX_ERRCLASS_TRANSPORT (AX_ERRCLASS_ARGUMENT for AX_EINVAL and
 * AX_EUNKNOWNKEY); a refused public-call argument is AX_ERRCLASS_ARGUMENT.
 *
 * Thread safety: thread-local.
 * @since 0.2
 */
AX_API int ax_error_last_class(void);

/**
 * Symbolic name of an error class ("AX_ERRCLASS_DB"), or NULL when unknown.
 *
 * Thread safety: safe.
 * @since 0.2
 */
AX_API const char *ax_error_class_name(int error_class);

/**
 * The drive's own u32 error code when the last failure was AX_EDRIVE, else 0.
 *
 * Thread safety: thread-local.
 * @since 0.1
 */
AX_API uint32_t ax_error_last_drive_code(void);

/**
 * Reset this thread's last error to "no error".
 *
 * Thread safety: thread-local.
 * @since 0.1
 */
AX_API void ax_error_clear(void);

/**
 * Text for a drive error code from the MCB / CANopen abort-code family
 * (0x06020000 "object does not exist", ...), or NULL when the code is not
 * one of the common ones. A dictionary may name more.
 *
 * Thread safety: safe.
 * @since 0.1
 */
AX_API const char *ax_drive_code_text(uint32_t code);

AX_END_DECLS

/** @} */
#endif
