#!/bin/sh
# Makes a throwaway CA and a head-office certificate for 127.0.0.1 and
# localhost under config/hq-tls/ (demo and tests only; use your own PKI in
# production). Needs openssl.
set -eu
dir="$(dirname "$0")/hq-tls"
mkdir -p "$dir"
cd "$dir"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 825 \
  -subj "/CN=scantrail demo CA" -keyout ca-key.pem -out ca.pem \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -subj "/CN=localhost" -keyout key.pem -out cert.csr
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > ext.cnf
openssl x509 -req -in cert.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 825 \
  -extfile ext.cnf -out cert.pem
rm -f cert.csr ext.cnf ca.srl
chmod 600 key.pem ca-key.pem
echo "wrote $(pwd)/ca.pem, cert.pem, key.pem"
