#!/usr/bin/env python3
# A pseudo-terminal wired to a TCP port: what mcsim opens as its UART (embedded:io/serial on Linux takes a
# character device) on one side, the modem emulator's TCP stand-in for the UART on the other. Prints the pty's
# path on the first line, then copies bytes both ways until either side closes or it gets SIGTERM.
#   python3 pty-bridge.py HOST PORT
import os, select, socket, sys, tty

host, port = sys.argv[1], int(sys.argv[2])
master, slave = os.openpty()
tty.setraw(master)
tty.setraw(slave)
print(os.ttyname(slave), flush=True)
uart = socket.create_connection((host, port))
while True:
    ready, _, _ = select.select([master, uart], [], [])
    if master in ready:
        try:
            data = os.read(master, 4096)
        except OSError:
            data = b''
        if not data:
            break
        uart.sendall(data)
    if uart in ready:
        data = uart.recv(4096)
        if not data:
            break
        os.write(master, data)
