#!/bin/sh
# Writes the TLS tests' certificates into the directory $1: a CA, a server certificate for
# localhost and 127.0.0.1, a client certificate, a second (untrusted) CA with a client
# certificate of its own, and server certificates that expired or are not valid yet.
# EC P-256 keys: fast to make.
set -eu
cd "$1"
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }
ca() {
  key "$1.key"
  openssl req -x509 -new -key "$1.key" -subj "/CN=$2" -days 3650 -out "$1.pem" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
}
csr() { key "$1.key"; openssl req -new -key "$1.key" -subj "/CN=$2" -out "$1.csr"; }
sign() {  # name ca extfile
  openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -days 365 -extfile "$3" -out "$1.pem"
}

ca ca "torsion test CA"
ca other-ca "torsion untrusted CA"
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > server.ext
printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n' > client.ext
csr server localhost && sign server ca server.ext
csr client "torsion test client" && sign client ca client.ext
csr other-client "untrusted client" && sign other-client other-ca client.ext
# The same server name under the untrusted CA.
csr untrusted localhost && sign untrusted other-ca server.ext

# Certificates outside their validity window need explicit dates: `openssl ca` sets them.
cat > ca.cnf <<'CNF'
[ca]
default_ca = test
[test]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = any
unique_subject = no
[any]
commonName = supplied
CNF
: > index.txt
echo 1000 > serial
csr expired localhost
openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in expired.csr -out expired.pem -notext \
  -startdate 20200101000000Z -enddate 20210101000000Z -extfile server.ext
csr notyet localhost
openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in notyet.csr -out notyet.pem -notext \
  -startdate 20991231000000Z -enddate 21001231000000Z -extfile server.ext
