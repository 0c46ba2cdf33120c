#!/bin/bash
# nt-kafka-healthcheck [PORT] — exits 0 when the broker on 127.0.0.1:PORT (9092) answers an
# ApiVersions request (v0) with error code 0. Costs a few bytes instead of a JVM start, so the
# check can run every few seconds.
set -euo pipefail
port="${1:-9092}"
exec 3<>"/dev/tcp/127.0.0.1/$port"
# length 12 | api_key 18 (ApiVersions) | api_version 0 | correlation_id 7 | client_id "hc"
printf '\x00\x00\x00\x0c\x00\x12\x00\x00\x00\x00\x00\x07\x00\x02hc' >&3
# response: length (4) | correlation_id (4) | error_code (2) | ...
got="$(timeout 4 head -c 10 <&3 | od -An -tx1 | tr -d ' \n')"
[[ "${got:8:12}" == 000000070000 ]]
