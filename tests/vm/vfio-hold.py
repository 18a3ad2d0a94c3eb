#!/usr/bin/python3
"""A stand-in for a virtual machine: a real VFIO user of one device.

usage: vfio-hold.py GROUP DEVICE

Opens the VFIO container and /dev/vfio/GROUP, sets the type1v2 IOMMU and
gets DEVICE's fd (a PCI address, or an mdev's UUID), as QEMU does; prints
"holding DEVICE" and keeps it open until killed. Exits 1 with the errno
when a step fails. For the QEMU test VM (tests/vm/run-vm).
"""
import fcntl
import os
import signal
import struct
import sys

# linux/vfio.h: _IO(VFIO_TYPE ';', VFIO_BASE 100 + n)
VFIO_CHECK_EXTENSION = 0x3B65
VFIO_SET_IOMMU = 0x3B66
VFIO_GROUP_GET_STATUS = 0x3B67
VFIO_GROUP_SET_CONTAINER = 0x3B68
VFIO_GROUP_GET_DEVICE_FD = 0x3B6A
VFIO_TYPE1v2_IOMMU = 3
VFIO_GROUP_FLAGS_VIABLE = 1


def main():
    group, device = sys.argv[1], sys.argv[2]
    step = 'opening /dev/vfio/vfio'
    try:
        container = os.open('/dev/vfio/vfio', os.O_RDWR)
        step = 'checking for type1v2'
        if not fcntl.ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU):
            raise OSError(0, 'no type1v2 IOMMU')
        step = f'opening /dev/vfio/{group}'
        fd = os.open(f'/dev/vfio/{group}', os.O_RDWR)
        status = bytearray(struct.pack('II', 8, 0))
        fcntl.ioctl(fd, VFIO_GROUP_GET_STATUS, status)
        if not struct.unpack('II', status)[1] & VFIO_GROUP_FLAGS_VIABLE:
            raise OSError(0, 'group not viable')
        step = 'VFIO_GROUP_SET_CONTAINER'
        fcntl.ioctl(fd, VFIO_GROUP_SET_CONTAINER, struct.pack('i', container))
        step = 'VFIO_SET_IOMMU'
        fcntl.ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)
        step = f'VFIO_GROUP_GET_DEVICE_FD {device}'
        fcntl.ioctl(fd, VFIO_GROUP_GET_DEVICE_FD, bytearray(device.encode() + b'\0'), True)
    except OSError as e:
        print(f'vfio-hold: {step}: {e}', flush=True)
        return 1
    print(f'holding {device}', flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        signal.pause()


if __name__ == '__main__':
    sys.exit(main())
