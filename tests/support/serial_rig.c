/* SPDX-License-Identifier: MIT */
/*
 * umockdev testbed with emulated USB-serial ports (see serial_rig.h).
 *
 * Each port is four sysfs records as the kernel makes them for an FTDI
 * cable: the USB device (ids and strings), its interface, the usb-serial
 * port and the tty with its device node. umockdev backs the node with a
 * pty and keeps the master; libserialport walks the records to report
 * transport, VID:PID and strings, exactly as on real hardware.
 */
#define _GNU_SOURCE

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <umockdev.h>
#include <unistd.h>

#include "serial_rig.h"

#define RIG_MAX_PORTS 16

struct rig_port {
	char usb_path[128]; /* sysfs path of the USB device */
	char tty_path[192]; /* sysfs path of the tty */
	char dev[64];       /* /dev/ttyUSB0 */
	char slave[64];     /* /dev/pts/N behind it */
	int master;
	int unplugged;
};

struct serial_rig {
	UMockdevTestbed *tb;
	struct rig_port ports[RIG_MAX_PORTS];
	size_t n;
};

/* Append the records of one port to @buf. Returns 0, or -1 when @buf is too small. */
static int rig_describe(char *buf, size_t cap, size_t *off, const struct serial_rig_port *p,
                        size_t i, struct rig_port *rp)
{
	int n;

	(void)snprintf(rp->usb_path, sizeof(rp->usb_path),
	               "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-%zu", i + 1);
	(void)snprintf(rp->tty_path, sizeof(rp->tty_path), "%s/1-%zu:1.0/%s/tty/%s", rp->usb_path,
	               i + 1, p->name, p->name);
	(void)snprintf(rp->dev, sizeof(rp->dev), "/dev/%s", p->name);
	n = snprintf(buf + *off, cap - *off,
	             "P: /devices/pci0000:00/0000:00:14.0/usb1/1-%zu\n"
	             "E: SUBSYSTEM=usb\nE: DEVTYPE=usb_device\n"
	             "E: DEVNAME=/dev/bus/usb/001/%03zu\n"
	             "A: busnum=1\\n\nA: devnum=%zu\\n\n"
	             "A: idVendor=%04x\nA: idProduct=%04x\n"
	             "%s%s%s%s%s%s%s%s%s"
	             "\n"
	             "P: /devices/pci0000:00/0000:00:14.0/usb1/1-%zu/1-%zu:1.0\n"
	             "E: SUBSYSTEM=usb\nE: DEVTYPE=usb_interface\nA: bInterfaceNumber=00\n"
	             "\n"
	             "P: /devices/pci0000:00/0000:00:14.0/usb1/1-%zu/1-%zu:1.0/%s\n"
	             "E: SUBSYSTEM=usb-serial\n"
	             "\n"
	             "P: /devices/pci0000:00/0000:00:14.0/usb1/1-%zu/1-%zu:1.0/%s/tty/%s\n"
	             "N: %s\nE: SUBSYSTEM=tty\nE: DEVNAME=/dev/%s\nE: MAJOR=188\nE: MINOR=%zu\n"
	             "A: dev=188:%zu\n"
	             "L: device=../../../%s\n"
	             "\n",
	             i + 1, i + 2, i + 2, (unsigned)p->vid, (unsigned)p->pid,
	             p->manufacturer ? "A: manufacturer=" : "",
	             p->manufacturer ? p->manufacturer : "", p->manufacturer ? "\n" : "",
	             p->product ? "A: product=" : "", p->product ? p->product : "",
	             p->product ? "\n" : "", p->serial ? "A: serial=" : "",
	             p->serial ? p->serial : "", p->serial ? "\n" : "", i + 1, i + 1, i + 1, i + 1,
	             p->name, i + 1, i + 1, p->name, p->name, p->name, p->name, i, i, p->name);
	if (n < 0 || (size_t)n >= cap - *off)
		return -1;
	*off += (size_t)n;
	return 0;
}

int serial_rig_new(serial_rig **out, const struct serial_rig_port *ports, size_t n)
{
	char desc[16384];
	size_t off = 0;
	GError *gerr = NULL;
	const char *preload;
	serial_rig *r;

	/* umockdev_in_mock_environment() says no under umockdev-wrapper (0.17); ask the loader's
	 * list. */
	preload = getenv("LD_PRELOAD");
	if (!preload || !strstr(preload, "libumockdev-preload")) {
		fprintf(stderr, "serial_rig: not under umockdev; run the test with "
		                "umockdev-wrapper (ctest does)\n");
		return -1;
	}
	if (n == 0 || n > RIG_MAX_PORTS) {
		fprintf(stderr, "serial_rig: %zu ports requested, 1..%d supported\n", n,
		        RIG_MAX_PORTS);
		return -1;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return -1;
	r->n = n;
	for (size_t i = 0; i < n; i++) {
		r->ports[i].master = -1;
		if (rig_describe(desc, sizeof(desc), &off, &ports[i], i, &r->ports[i]) < 0) {
			fprintf(stderr, "serial_rig: device description too long\n");
			free(r);
			return -1;
		}
	}
	r->tb = umockdev_testbed_new();
	if (!umockdev_testbed_add_from_string(r->tb, desc, &gerr)) {
		fprintf(stderr, "serial_rig: umockdev refused the ports: %s\n",
		        gerr ? gerr->message : "?");
		g_clear_error(&gerr);
		serial_rig_free(r);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct rig_port *p = &r->ports[i];
		struct termios tio;
		const char *slave;

		p->master = umockdev_testbed_get_dev_fd(r->tb, p->dev);
		if (p->master < 0 || !(slave = ptsname(p->master))) {
			fprintf(stderr, "serial_rig: %s has no pty behind it\n", p->dev);
			serial_rig_free(r);
			return -1;
		}
		(void)snprintf(p->slave, sizeof(p->slave), "%s", slave);
		/* Binary frames: no echo, no CR/LF translation, no flow control characters. */
		if (tcgetattr(p->master, &tio) == 0) {
			cfmakeraw(&tio);
			(void)tcsetattr(p->master, TCSANOW, &tio);
		}
	}
	*out = r;
	return 0;
}

int serial_rig_master(const serial_rig *r, size_t i)
{
	return i < r->n ? r->ports[i].master : -1;
}

const char *serial_rig_slave(const serial_rig *r, size_t i)
{
	return i < r->n ? r->ports[i].slave : "";
}

int serial_rig_unplug(serial_rig *r, size_t i)
{
	struct rig_port *p;
	int null_fd;

	if (i >= r->n || r->ports[i].unplugged)
		return -1;
	p = &r->ports[i];
	p->unplugged = 1;
	umockdev_testbed_remove_device(r->tb, p->tty_path);
	umockdev_testbed_remove_device(r->tb, p->usb_path);
	/*
	 * The testbed owns the master and closes it at the end; replacing it
	 * with /dev/null closes the pty (the line hangs up) while the number
	 * stays valid for that final close.
	 */
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null_fd < 0)
		return -1;
	if (dup2(null_fd, p->master) < 0) {
		close(null_fd);
		return -1;
	}
	close(null_fd);
	return 0;
}

void serial_rig_free(serial_rig *r)
{
	if (!r)
		return;
	if (r->tb)
		g_object_unref(r->tb);
	free(r);
}
