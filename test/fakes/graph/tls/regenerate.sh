#!/bin/sh
# Regenerates the test-only TLS fixtures (run by hand; tests never spawn it).
set -e
cd "$(dirname "$0")"
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca-key.pem -out ca.pem -days 36500 -subj "/CN=idsync graph fake test CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
openssl req -newkey rsa:2048 -nodes -keyout server-key.pem -out server.csr -subj "/CN=localhost"
printf "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n" > server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -out server.pem -days 36500 -extfile server.ext
openssl req -x509 -newkey rsa:2048 -nodes -keyout app-key.pem -out app-cert.pem -days 36500 -subj "/CN=idsync graph fake test app"
cat app-key.pem app-cert.pem > app.pem
rm -f server.csr server.ext ca.srl ca-key.pem app-key.pem
