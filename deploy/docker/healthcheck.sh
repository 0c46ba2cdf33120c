#!/bin/bash
# nt-healthcheck PORT PATH — exits 0 when http://127.0.0.1:PORT/PATH answers HTTP 200.
# For container healthchecks in an image without curl (bash's /dev/tcp is enough).
set -euo pipefail
if [[ $# -ne 2 || "$1" == --help ]]; then
    echo "usage: nt-healthcheck PORT PATH" >&2
    exit 2
fi
exec 3<>"/dev/tcp/127.0.0.1/$1"
printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$2" >&3
read -r -t 5 _proto status _ <&3
[[ "$status" == 200 ]]
