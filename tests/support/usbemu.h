/* SPDX-License-Identifier: MIT */
#ifndef AXLINK_TESTS_USBEMU_H
#define AXLINK_TESTS_USBEMU_H

/*
 * Test support: emulated USB drives that the real libusb talks to.
 *
 * This machine's kernel has no USB stack, so the devices live in a umockdev
 * testbed (see ../shared/TEST-RIGS.md, USB): their sysfs entries make libusb
 * enumerate them and read their descriptors, and an in-process ioctl handler
 * plays the kernel's usbfs for their device nodes — claims, kernel-driver
 * detach/attach, control transfers for the string descriptors, bulk URBs,
 * cancellation (DISCARDURB) and disconnection. What a drive does with a
 * request is the shared simulated drive's business (tools/sim/drive/simdrive.h):
 * each bulk OUT transfer is one MCB request, its reply is read from bulk IN.
 *
 * The program must run under `umockdev-wrapper` (it preloads umockdev);
 * usbemu_new() says so when it does not. Set TMPDIR to a build folder: the
 * testbed lives in a temporary directory there.
 *
 * Devices sit on bus 1 behind its root hub, at ports 1-1, 1-2, ... with
 * addresses 2, 3, ... in the order they are added. Adding one after
 * libusb_init() is a hot-plug arrival; usbemu_dev_unplug() a removal.
 *
 * Access denied: usbemu_dev_set_denied() makes open() of the device node
 * fail with EACCES, as a node without a udev rule does for a normal user.
 * The emulator does that by interposing open() in the test executable (this
 * object defines open, open64, __open_2 and __open64_2; every other path goes
 * to the next definition, umockdev's).
 *
 * Thread safety: every call is safe from any thread; the ioctl handler runs
 * on umockdev's worker thread.
 */

#include <stddef.h>
#include <stdint.h>

typedef struct usbemu usbemu;
typedef struct usbemu_dev usbemu_dev;

/* What an emulated device looks like. Strings are copied. */
typedef struct usbemu_dev_config {
	uint16_t vid, pid;
	const char *manufacturer; /* string descriptors; NULL = the device has none */
	const char *product;
	const char *serial;
	const char *model;     /* simulated drive model, NULL = the first one */
	uint32_t drive_serial; /* the drive's MCB serial number register */
	/*
	 * 0: one vendor-specific interface, bulk IN 0x81 / OUT 0x02.
	 * 1: a CDC-ACM function: communication interface 0 (interrupt IN 0x83)
	 *    and data interface 1 with bulk IN 0x82 / OUT 0x01.
	 */
	int cdc_acm;
	/* Kernel driver bound at start to the interfaces (e.g. "cdc_acm"), or NULL. */
	const char *kernel_driver;
	/*
	 * The tty that driver made of it ("ttyACM0"), or NULL: sysfs gets the
	 * interface folder 1-N:1.0 with tty/<tty> in it, as the kernel's
	 * cdc_acm makes them (no device node: nothing here answers on it).
	 */
	const char *tty;
} usbemu_dev_config;

/* Counters of what the host did to a device. */
typedef struct usbemu_stats {
	unsigned opens;       /* device node opened (libusb_open) */
	unsigned claims;      /* interfaces claimed */
	unsigned releases;    /* interfaces released */
	unsigned detaches;    /* kernel driver unbound from an interface */
	unsigned attaches;    /* kernel driver bound again */
	unsigned requests;    /* bulk OUT transfers */
	unsigned replies;     /* replies the drive produced */
	unsigned discards;    /* pending URBs cancelled (DISCARDURB) */
	unsigned bound_now;   /* interfaces with the kernel driver bound at this moment */
	unsigned claimed_now; /* interfaces claimed at this moment */
} usbemu_stats;

/*
 * New testbed with bus 1's root hub. Returns 0, or -1 with a message on
 * stderr (not under umockdev-wrapper, testbed failure).
 */
int usbemu_new(usbemu **out);

/* Detach every handler, free the drives and the testbed. Accepts NULL. */
void usbemu_free(usbemu *emu);

/* Add a device at the next port. Returns 0, or -1 with a message on stderr. */
int usbemu_add(usbemu *emu, const usbemu_dev_config *cfg, usbemu_dev **out);

/* Bus number, device address, "/sys/devices/.../usb1/1-N". */
unsigned usbemu_dev_bus(const usbemu_dev *dev);
unsigned usbemu_dev_address(const usbemu_dev *dev);
const char *usbemu_dev_syspath(const usbemu_dev *dev);

/* Take requests but never answer (1), or answer again (0). */
void usbemu_dev_set_mute(usbemu_dev *dev, int on);

/* Take the next @n requests without answering them. */
void usbemu_dev_drop_next(usbemu_dev *dev, unsigned n);

/*
 * Hold the next @n replies back, as a busy drive answering late: they go
 * out when usbemu_dev_release_held() is called (replies to requests that
 * come meanwhile wait behind them), or, if @with_next_request, when the
 * following request comes, ahead of its own reply.
 */
void usbemu_dev_delay_next(usbemu_dev *dev, unsigned n, int with_next_request);
void usbemu_dev_release_held(usbemu_dev *dev);

/*
 * Hand replies out at most @n bytes per IN transfer (0 = all at once), as a
 * device that writes its reply in pieces: the host must put it together.
 */
void usbemu_dev_set_in_chunk(usbemu_dev *dev, unsigned n);

/* Break the CRC of the next @n replies (the host must skip them). */
void usbemu_dev_corrupt_next(usbemu_dev *dev, unsigned n);

/* Another program holds the interface: claims fail with EBUSY. */
void usbemu_dev_set_busy(usbemu_dev *dev, int on);

/* open() of the device node fails with EACCES (1), or works again (0). */
void usbemu_dev_set_denied(usbemu_dev *dev, int on);

/*
 * Pull the plug: URBs in flight complete with -ESHUTDOWN, every later
 * ioctl fails with ENODEV (as usbfs does), then a "remove" uevent and the
 * sysfs entry goes. The device keeps its slot; its stats stay readable.
 */
void usbemu_dev_unplug(usbemu_dev *dev);

/* A copy of the device's counters. */
void usbemu_dev_stats(usbemu_dev *dev, usbemu_stats *out);

#endif
