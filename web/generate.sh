#!/bin/sh
# Regenerates the committed protobuf JavaScript of the web console from proto/.
#
#   cd web && npm ci && npm run generate      (or: sh web/generate.sh [OUTDIR])
#
# Writes into OUTDIR (default: web/generated):
#   signaling.js     static code for proto/meeting_controller/protocol/signaling.proto
#                    (pbjs static-module, "closure" wrapper: adds to the global `protobuf`)
#   protobuf.min.js  the protobuf.js minimal runtime that code needs, copied from node_modules
# tests/web/test_generated_js.py runs this into a temporary directory and fails when the
# committed files differ.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/generated}
proto_root=$here/../proto
pbjs=$here/node_modules/.bin/pbjs
if [ ! -x "$pbjs" ]; then
    echo "generate.sh: $pbjs is missing: run 'npm ci' in $here first" >&2
    exit 1
fi
mkdir -p "$out"
(cd "$proto_root" && "$pbjs" --target static-module --wrap closure \
    --no-comments --no-verify --no-convert --no-delimited --no-typeurl \
    --path . --out "$out/signaling.js" meeting_controller/protocol/signaling.proto)
cp "$here/node_modules/protobufjs/dist/minimal/protobuf.min.js" "$out/protobuf.min.js"
