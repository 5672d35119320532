/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_MCB_H
#define AXLINK_MCB_H

/**
 * @file axlink/mcb.h
 * @brief MCB (Motion Control Bus) register frames: encode, decode, validate.
 * @defgroup ax_mcb MCB codec
 *
 * A frame is 14 bytes, little-endian:
 * bytes 0-1 subnode (bits 0-3) and node (bits 4-15, 0xA);
 * bytes 2-3 extended flag (bit 0), command (bits 1-3), address (bits 4-15);
 * bytes 4-11 the value, zero padded, or in an extended frame the payload
 * length as u64; bytes 12-13 CRC-16/XMODEM of bytes 0-11. An extended frame
 * is followed by its payload (at most AX_MCB_MAX_PAYLOAD bytes, not under the CRC).
 *
 * The functions are pure (no I/O, no allocation) and safe from any thread.
 * On failure they set ax_error_last().
 * @{
 */

#include "axlink/common.h"
#include "axlink/scan.h"

AX_BEGIN_DECLS

#define AX_MCB_FRAME_SIZE 14
#define AX_MCB_MAX_PAYLOAD 512
#define AX_MCB_MAX_FRAME (AX_MCB_FRAME_SIZE + AX_MCB_MAX_PAYLOAD)
#define AX_MCB_NODE 0xA
#define AX_MCB_MAX_ADDRESS 0xFFF
#define AX_MCB_MAX_SUBNODE 0xF
/** UDP port MCB drives listen on. */
#define AX_MCB_UDP_PORT 1061

/** Frame commands. */
typedef enum ax_mcb_cmd {
	AX_MCB_READ = 1,
	AX_MCB_WRITE = 2,
	AX_MCB_ACK = 3,
	AX_MCB_ERR_INFO = 4,
	AX_MCB_ERR_READ = 5,
	AX_MCB_ERR_WRITE = 6,
} ax_mcb_cmd;

/** Common drive error codes carried by error replies. */
#define AX_MCB_CODE_ACCESS 0x06010000u       /**< incorrect access (read-only / write-only) */
#define AX_MCB_CODE_NO_OBJECT 0x06020000u    /**< object does not exist */
#define AX_MCB_CODE_WRONG_SIZE 0x06070010u   /**< data type does not match, length wrong */
#define AX_MCB_CODE_RANGE 0x06090030u        /**< value out of range */
#define AX_MCB_CODE_NOT_EXECUTED 0x08000000u /**< general error, not executed */

/**
 * A decoded or to-be-encoded frame.
 *
 * For a plain frame, `data` holds the 8 value bytes and `payload` is NULL.
 * For an extended frame, `payload` points at `payload_len` bytes (into the
 * decoded buffer, or the caller's data when encoding).
 */
typedef struct ax_mcb_frame {
	uint8_t node;           /**< 0xA on the wire today */
	uint8_t subnode;        /**< 0 = communication core, 1.. = axes */
	uint16_t address;       /**< 12-bit register address */
	uint8_t command;        /**< an ax_mcb_cmd */
	uint8_t extended;       /**< 1 for an extended frame */
	uint8_t data[8];        /**< value bytes of a plain frame */
	const uint8_t *payload; /**< extended payload, or NULL */
	size_t payload_len;     /**< extended payload length */
	size_t frame_len;       /**< decode: bytes the frame took (14 + payload) */
} ax_mcb_frame;

/**
 * CRC-16/XMODEM (poly 0x1021, init 0, no reflection, no final xor).
 * "123456789" gives 0x31C3. Thread safety: safe.
 * @since 0.1
 */
AX_API uint16_t ax_mcb_crc16(const void *data, size_t len);

/**
 * Encode @p f into @p buf. An extended frame is produced when
 * `f->extended` is set or `f->payload_len` > 8 (the payload is copied after
 * the header); otherwise the first `payload_len` bytes of `payload` (if
 * given) or `data` fill the value field.
 *
 * @param[out] len_out  bytes written
 * @return 0, AX_EINVAL (subnode, address or command out of range),
 *         AX_ETOOBIG (payload over AX_MCB_MAX_PAYLOAD or @p cap too small).
 * Thread safety: safe.
 * @since 0.1
 */
AX_API int ax_mcb_encode(uint8_t *buf, size_t cap, size_t *len_out, const ax_mcb_frame *f);

/**
 * Encode a read request for (@p subnode, @p address) into the 14 bytes at @p buf.
 * @return 0 or AX_EINVAL. Thread safety: safe.
 * @since 0.1
 */
AX_API int ax_mcb_encode_read(uint8_t *buf, unsigned subnode, unsigned address);

/**
 * Encode a write request; extended when @p len > 8.
 * @param[out] len_out  bytes written (14, or 14 + @p len)
 * @return 0, AX_EINVAL or AX_ETOOBIG. Thread safety: safe.
 * @since 0.1
 */
AX_API int ax_mcb_encode_write(uint8_t *buf, size_t cap, size_t *len_out, unsigned subnode,
                               unsigned address, const void *value, size_t len);

/**
 * Fill @p f as a request for (@p subnode, @p address): a read (@p value
 * NULL, @p len 0) or a write of @p len value bytes. A write longer than 8
 * bytes, or an empty one, is an extended frame (a plain frame always carries
 * 8 bytes, so an empty write would otherwise write zeros); its payload
 * points at @p value, which must outlive the encoding.
 *
 * @return 0, AX_EINVAL (command not read/write, subnode or address out of
 *         range), AX_ETOOBIG (over AX_MCB_MAX_PAYLOAD).
 * Thread safety: safe.
 * @since 0.1
 */
AX_API int ax_mcb_request(ax_mcb_frame *f, int command, unsigned subnode, unsigned address,
                          const void *value, size_t len);

/**
 * Copy the value of a checked reply into @p buf: the 8 value bytes of a
 * plain frame, the payload of an extended one.
 *
 * @param[out] len_out  bytes copied
 * @return 0, or AX_ETOOBIG when @p cap is smaller (message names the register).
 * Thread safety: safe.
 * @since 0.1
 */
AX_API int ax_mcb_reply_value(const ax_mcb_frame *reply, void *buf, size_t cap, size_t *len_out);

/**
 * Decode and validate the structure of one frame at the start of @p buf:
 * length, CRC, node, command, extended length. Does not check that it
 * answers any request (see ax_mcb_check_reply()).
 *
 * @param[out] out  the frame; `payload` points into @p buf
 * @return 0, AX_ETRUNC (fewer bytes than the frame needs), AX_ECRC,
 *         AX_ETOOBIG (extended length over AX_MCB_MAX_PAYLOAD),
 *         AX_EPROTO (unknown command, wrong node).
 * Thread safety: safe.
 * @since 0.1
 */
AX_API int ax_mcb_decode(ax_mcb_frame *out, const uint8_t *buf, size_t len);

/**
 * Check that a decoded @p reply answers a request for (@p subnode, @p address).
 *
 * @return 0 for an ack of that register; AX_EADDR when it names another
 *         subnode or address; AX_EDRIVE for an error reply (the drive's
 *         code is then in ax_error_last_drive_code()); AX_EPROTO for a
 *         command that is not a reply.
 * Thread safety: safe.
 * @since 0.1
 */
AX_API int ax_mcb_check_reply(const ax_mcb_frame *reply, unsigned subnode, unsigned address);

/**
 * Check that a decoded @p reply is the answer to @p request, and nothing else.
 *
 * MCB frames carry no sequence number, so a reply is matched to its request
 * by what it can be seen to answer. The rules, in the order they are checked:
 * - a read or write frame is not a reply (an echo of a request): AX_EPROTO;
 * - another subnode or address: AX_EADDR (a late reply to another request);
 * - when @p wire_len is not 0 (the transport knows where the reply ends: a
 *   UDP datagram, a USB transfer), it must equal the frame's length, 14
 *   bytes plus the payload the header declares: AX_EPROTO otherwise;
 * - an error reply (info-, read- or write-error) refuses the request:
 *   AX_EDRIVE, its code in ax_error_last_drive_code() and a message worded
 *   after the request that quotes what came back ("read of subnode 1
 *   register 0x011 refused: drive answered write-error 0x06010000 ...");
 * - an ack answers a read whatever it carries (plain or extended);
 * - an ack answers a write only if it carries no extended payload and, for a
 *   plain write, echoes the 8 value bytes written (drives answer a write
 *   with its own value): AX_EADDR otherwise, since such an ack is the answer
 *   to a read, or to another write, of the same register.
 *
 * @param reply     a frame from ax_mcb_decode()
 * @param wire_len  bytes the reply arrived in, or 0 when unknown (a stream)
 * @param request   the request as built by ax_mcb_request()
 * @return 0, AX_EPROTO, AX_EADDR, AX_EDRIVE, or AX_EINVAL (@p request is not
 *         a read or write, or its register is out of range).
 * Thread safety: safe.
 * @since 0.2
 */
AX_API int ax_mcb_check_answer(const ax_mcb_frame *reply, size_t wire_len,
                               const ax_mcb_frame *request);

/**
 * Name of a command ("read", "write", "ack", "info-error", "read-error",
 * "write-error"), or NULL. Thread safety: safe.
 * @since 0.1
 */
AX_API const char *ax_mcb_cmd_name(int command);

/* ---- identity ------------------------------------------------------------------ */

/**
 * @name Identity registers
 * Every MCB drive identifies itself in these registers of subnode 0. A
 * probe for a drive reads the product code first: any reply, an error
 * reply included, comes from an MCB drive. The software version is text.
 * @{
 */
#define AX_MCB_REG_VENDOR_ID 0x6E0u    /**< u32 */
#define AX_MCB_REG_PRODUCT_CODE 0x6E1u /**< u32; the probe register */
#define AX_MCB_REG_REVISION 0x6E2u     /**< u32 */
#define AX_MCB_REG_SW_VERSION 0x6E4u   /**< str */
#define AX_MCB_REG_SERIAL 0x6E6u       /**< u32 */
/** @} */

/**
 * Take the value an identity register answered with into a scan record.
 *
 * @p address is one of the AX_MCB_REG_* identity registers. A u32 register
 * fills its field of @p r (vendor_id, product_code, revision, serial); the
 * software version is cleaned into @p sw (up to the first NUL, control
 * characters and invalid UTF-8 replaced by '?', cut on a character
 * boundary to @p sw_cap - 1 bytes) and @p r->sw_version points at it. The
 * matching AX_SCAN_HAS_* bit is set in r->known.
 *
 * @param r        the record to fill (its other fields are untouched)
 * @param sw       storage for the version text; may be NULL if @p sw_cap is 0
 * @param address  the register the value came from
 * @param value    the reply's value bytes (ax_mcb_reply_value())
 * @return 0; AX_EPROTO when a u32 register's value is not 4 to 8 bytes (a
 *         plain frame carries 8; the field stays unknown); AX_EINVAL for an address that is no
 *         identity register.
 * Thread safety: safe.
 * @since 0.2 (plugins: host->mcb_identity_take, ABI 1.3)
 */
AX_API int ax_mcb_identity_take(ax_scan_result *r, char *sw, size_t sw_cap, unsigned address,
                                const void *value, size_t len);

AX_END_DECLS

/** @} */
#endif
