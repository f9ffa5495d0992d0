# Asks the egress proxy to CONNECT to HOST:443 and prints the proxy's status line.
# Run inside a stack container: python3 - HOST PROXY_HOST PROXY_PORT  (script on stdin).
import socket
import sys

host, proxy_host, proxy_port = sys.argv[1], sys.argv[2], int(sys.argv[3])
with socket.create_connection((proxy_host, proxy_port), timeout=15) as s:
    s.sendall(f"CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n\r\n".encode())
    s.settimeout(30)
    head = s.recv(4096).split(b"\r\n", 1)[0].decode(errors="replace")
print(head)
