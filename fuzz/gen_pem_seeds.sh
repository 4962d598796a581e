#!/usr/bin/env bash
# Writes the pem_key seeds: throwaway RSA keys generated as test fixtures
# only (they sign nothing anywhere), in the forms users paste. They live in
# fixtures/, apart from the other corpora, because they are key material.
set -euo pipefail
out="$(cd "$(dirname "$0")" && pwd)/fixtures/pem_key-test-keys"
mkdir -p "$out"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

openssl genrsa -traditional -out "$tmp/k2048.pem" 2048 2>/dev/null
openssl genrsa -traditional -out "$tmp/k1024.pem" 1024 2>/dev/null
cp "$tmp/k2048.pem" "$out/pkcs1-2048.pem"
openssl pkcs8 -topk8 -nocrypt -in "$tmp/k2048.pem" -out "$out/pkcs8-2048.pem"
cp "$tmp/k1024.pem" "$out/pkcs1-1024-too-short.pem"
openssl pkcs8 -topk8 -nocrypt -in "$tmp/k1024.pem" -out "$out/pkcs8-1024-too-short.pem"
# Pasted with Windows line endings and surrounding blanks.
{ printf '\n  '; sed 's/$/\r/' "$tmp/k2048.pem"; printf '\t\n'; } >"$out/pkcs1-2048-crlf.pem"
openssl pkcs8 -topk8 -v2 aes-256-cbc -passout pass:fuzz-fixture -in "$tmp/k1024.pem" -out "$out/pkcs8-encrypted.pem"
openssl rsa -in "$tmp/k1024.pem" -pubout -out "$out/public-key.pem" 2>/dev/null
openssl req -new -x509 -key "$tmp/k1024.pem" -subj "/CN=fuzz-fixture" -days 1 -out "$out/certificate.pem" 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$out/pkcs8-ec-not-rsa.pem"
# DER, prefixed for the target's DER modes: \0 = PKCS#8, \1 = PKCS#1.
{ printf '\0'; openssl pkcs8 -topk8 -nocrypt -in "$tmp/k2048.pem" -outform DER; } >"$out/der-pkcs8-2048.bin"
{ printf '\1'; openssl rsa -traditional -in "$tmp/k2048.pem" -outform DER 2>/dev/null; } >"$out/der-pkcs1-2048.bin"
{ printf '\1'; openssl rsa -traditional -in "$tmp/k1024.pem" -outform DER 2>/dev/null; } >"$out/der-pkcs1-1024.bin"
echo "pem_key seeds written to $out"
